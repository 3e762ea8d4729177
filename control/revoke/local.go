package revoke

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/weirnet/weir/control/store"
)

// CheckLocal is Check for a certificate from this member's own state
// (stale reads, no leader needed): the peer port asks it about every
// member certificate, also while the cluster has no leader and before
// the member's Set is loaded. It looks up the certificate's serial and its
// CN's user entry; any read error refuses the certificate (fail closed).
func CheckLocal(ctx context.Context, st store.Interface, c *x509.Certificate) error {
	serial := SerialOf(c)
	read := func(k store.Key) (Entry, bool, error) {
		o, err := st.Get(ctx, k, store.ReadOptions{Stale: true})
		if errors.Is(err, store.ErrNotFound) {
			return Entry{}, false, nil
		}
		if err != nil {
			return Entry{}, false, fmt.Errorf("revoke: read the revocation list: %w", err)
		}
		var e Entry
		if err := json.Unmarshal(o.Value, &e); err != nil {
			return Entry{}, false, fmt.Errorf("revoke: decode %s: %w", k.Name, err)
		}
		return e, true, nil
	}
	e, ok, err := read(serialKey(serial))
	if err != nil {
		return err
	}
	if ok && (e.Issuer == "" || e.Issuer == c.Issuer.String()) {
		return &RevokedError{Serial: serial, Subject: c.Subject.String(), Entry: e}
	}
	u, ok, err := read(userKey(c.Subject.CommonName))
	if err != nil {
		return err
	}
	if ok && c.NotBefore.Before(u.Revoked.Add(-Backdate)) {
		return &RevokedError{Serial: serial, Subject: c.Subject.String(), Entry: u}
	}
	return nil
}
