// Package revoke is weir's certificate revocation list: client
// certificates of the cluster CA (users', nodes') refused before they
// expire.
//
// What it owns:
//   - The list in the replicated store (revoke.go): _revoked/serial/HEX is
//     one certificate (serial, issuer, subject, reason, when, its NotAfter);
//     _revoked/user/NAME is every certificate with CN NAME issued before a
//     time (NotBefore before it minus Backdate, the issuers' clock-skew
//     backdating). Entries are pruned once their certificates expired
//     (NotAfter; the CA's NotAfter when the certificate is unknown).
//   - The node certificate records: the node-stream signer writes
//     _nodecerts/NODE/SERIAL (RecordNodeCert) before it hands a certificate
//     out, with the CreateRevision of the Node at that moment (0 before the
//     first registration).
//   - Set (set.go): the list in memory, loaded with one linearizable list
//     and kept current by store watches (relisted when one fails), with
//     the node certificate records and the Nodes' create revisions: a
//     node certificate tied to a Node that is gone (or was made again) is
//     refused as soon as the member applies the delete, before the
//     controller's entry exists. Check costs a few map lookups; until the
//     first load it answers ErrNotLoaded, so certificate authentication
//     fails closed. WaitFor(rev) returns once the entries written up to
//     rev are in the set; Added fires when entries are added or Nodes
//     deleted (open node streams check again).
//   - Controller (controller.go), on the leader: a DELETED Node revokes
//     the node's records written before the delete (a later join of the
//     name keeps its new certificate); an ADDED Node ties first-join
//     records to it; at start, records tied to a Node that no longer
//     exists (or was made again) are revoked, which catches deletions made
//     while no leader ran it. It prunes at start and every 10 minutes.
//
// Who checks: control/api's certificate authenticator (401) and
// control/nodestream's authentication (Unauthenticated), both logging the
// serial and subject; control/member wires one Set per member. The peer
// port asks CheckLocal (local.go) about member certificates: the serial
// and CN entries read from the member's own state (no leader needed, so
// a cluster without one can still elect), any read error refusing. The
// node API (the control plane's certificate) does not consult the list.
//
// Gap: a first-join certificate (signed before its Node existed) is tied
// to the Node by the controller when the Node appears; a Node registered
// and deleted before that (no leader running the controller, or within
// milliseconds) leaves it untied and not revoked (`weir certs revoke
// --node NAME` does it).
//
// Testing: revoke_test.go runs the set, pruning and the controller on a
// real store (storetest); control/member's revoke_test.go runs users on a
// three-member cluster and a deleted node against a member's API and node
// stream; cmd/weir TestCLICerts the commands.
package revoke
