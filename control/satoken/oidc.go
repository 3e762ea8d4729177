package satoken

import (
	"encoding/base64"
	"math/big"
	"time"
)

// JWKSPath and DiscoveryPath are where kube-apiserver serves the OpenID
// documents of its ServiceAccount issuer.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/openid/v1/jwks"
)

// JWK is one public key of a JSON Web Key Set (RFC 7517), RSA only.
type JWK struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKSet is the document at JWKSPath.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWKS is the key set publishing k's public key.
func JWKS(k *Key) JWKSet {
	return jwks([]PublicKey{{ID: k.kid, Key: k.Public()}})
}

// JWKS publishes every key of s that verifies at now: the signing key and
// the replaced keys not yet retired.
func (s *KeySet) JWKS(now time.Time) JWKSet { return jwks(s.Verifying(now)) }

func jwks(keys []PublicKey) JWKSet {
	set := JWKSet{Keys: []JWK{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, JWK{Use: "sig", Kty: "RSA", Kid: k.ID, Alg: "RS256",
			N: base64.RawURLEncoding.EncodeToString(k.Key.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Key.E)).Bytes())})
	}
	return set
}

// Discovery is the OpenID provider configuration at DiscoveryPath, with
// kube-apiserver's fields: the issuer, where its keys are (the issuer URL
// + JWKSPath unless jwksURI is set) and what it signs.
type Discovery struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

// NewDiscovery is the provider configuration of issuer.
func NewDiscovery(issuer, jwksURI string) Discovery {
	if jwksURI == "" {
		jwksURI = issuer + JWKSPath
	}
	return Discovery{Issuer: issuer, JWKSURI: jwksURI, ResponseTypes: []string{"id_token"},
		SubjectTypes: []string{"public"}, SigningAlgs: []string{"RS256"}}
}
