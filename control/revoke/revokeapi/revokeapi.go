// Package revokeapi holds the wire types of weir's certificate revocation
// list (control/revoke): the entries in the store and the bodies of
// /weir/v1/revocations, without the store, so that clients can use them.
package revokeapi

import "time"

// Entry is one revocation. Either Serial (one certificate, with its issuer
// and subject when known) or User (every certificate whose CN is User and
// that was issued before Revoked: its NotBefore, which weir's issuers
// backdate by revoke.Backdate, is before Revoked-Backdate) is set. NotAfter is when the revoked
// certificates expire: the entry is pruned after it.
type Entry struct {
	Serial   string    `json:"serial,omitempty"` // lowercase hex, as SerialOf
	Issuer   string    `json:"issuer,omitempty"`
	User     string    `json:"user,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Revoked  time.Time `json:"revoked"`
	NotAfter time.Time `json:"notAfter"`
}

// Request is the body of POST /weir/v1/revocations: exactly one of Serial,
// User or Node.
type Request struct {
	Serial string `json:"serial,omitempty"`
	User   string `json:"user,omitempty"`
	Node   string `json:"node,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// List is the body of GET /weir/v1/revocations and of a POST's answer
// (the entries written).
type List struct {
	Items []Entry `json:"items"`
}
