// Package encrypt encrypts sensitive store values at rest, configured like
// kube-apiserver's EncryptionConfiguration: a file (apiVersion
// apiserver.config.k8s.io/v1, kind EncryptionConfiguration) lists, per
// group of store resources, providers in order; the first provider writes,
// every provider reads. Providers: `aesgcm` (named 16, 24 or 32-byte keys,
// kube's on-disk format "k8s:enc:aesgcm:v1:NAME:" + nonce + ciphertext,
// through k8s.io/apiserver's aes and value transformers) and `identity`
// (plaintext: reads values written before encryption was on).
//
// The store's key (resource/namespace/name) is the authenticated data of
// each value, so a ciphertext moved to another key does not decrypt.
//
// Promises: Transformers never return plaintext for a value that fails
// authentication; a value read with a key other than the first is reported
// stale (a rotation rewrites it). Rotation is three configurations in turn
// (AddReadKey, Promote, DropOthers) that control/store pushes to every
// member; see docs/security.md "Peers and data at rest".
package encrypt
