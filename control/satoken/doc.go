// Package satoken owns ServiceAccount tokens: the cluster's signing key,
// signing and verifying bound tokens, and the OpenID discovery documents
// that publish the public key.
//
// The key is an RSA-2048 key made once per cluster by the first member
// that needs it and kept in the replicated store beside the cluster CA
// (KeyRecord, a bookkeeping key the API never serves; at-rest encryption
// of the CA record covers it), then cached in memory by each member
// (Keys, read again locally every DefaultRefresh and at once for a key ID
// it does not know). Rotate replaces the signing key as kube-apiserver's
// several --service-account-key-file keys do: the new key signs at once,
// the replaced keys keep verifying (and stay in the JWKS) until their
// RetireAt, then stop, and leave the record at the next rotation. Tokens are RS256 JWTs in kube-apiserver's shape: iss, sub
// (system:serviceaccount:NS:NAME), aud, exp, iat, nbf, jti and the private
// "kubernetes.io" claim (namespace, serviceaccount, pod, secret, node,
// each with name and uid). The key ID is kube's: base64url(SHA-256 of the
// public key's PKIX DER).
//
// Promises: Verify accepts only a token this cluster signed with a key
// that still verifies (picked by kid), for the
// configured issuer, with an audience the caller accepts, before its exp
// (nbf and iat get a minute of clock skew); the
// "is the bound pod still there with this UID" check is the caller's
// (control/api's authenticator), through Verified's claims. Nothing here
// panics on a malformed token.
//
// Testing: go test ./control/satoken/ (a real single-member store).
package satoken
