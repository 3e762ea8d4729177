package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/member"
	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// memberFlags are the flags of the commands that act as a control member
// (its certificate from --data-dir) through a member's peer port, as
// `weir encryption rotate` does.
type memberFlags struct {
	dataDir, peer *string
	timeout       *time.Duration
}

func addMemberFlags(fs *flag.FlagSet) memberFlags {
	return memberFlags{
		dataDir: fs.String("data-dir", "/var/lib/weir/control", "a control member's data directory (its member certificate)"),
		peer:    fs.String("peer", "127.0.0.1:2380", "that member's peer address"),
		timeout: fs.Duration("timeout", 2*time.Minute, "give up after this long"),
	}
}

func runServiceAccounts(ctx context.Context, args []string) error {
	return serviceAccountsCmd(ctx, stdio(), args)
}

// serviceAccountsCmd is `weir serviceaccounts rotate-key`: the leader
// makes a new ServiceAccount signing key that signs every new token at
// once; the replaced key keeps verifying (and stays in the JWKS) until
// the tokens it signed have expired, then stops.
func serviceAccountsCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("serviceaccounts", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir serviceaccounts rotate-key [--data-dir DIR] [--peer HOST:PORT] [--retire-after D]\n\n"+
			"Run on a control member's host: a new signing key signs ServiceAccount tokens from now on; the old key\n"+
			"keeps verifying the tokens it signed until they have expired.")
		fs.PrintDefaults()
	}
	mf := addMemberFlags(fs)
	retire := fs.String("retire-after", "", "how long the replaced key keeps verifying (default: the leader's --service-account-max-token-expiration + 5m; "+
		"shorter cuts off the tokens it signed early, 0 at once: for a leaked key)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "rotate-key" {
		fs.Usage()
		return fmt.Errorf("want rotate-key; got %q", pos)
	}
	var req member.RotateKeyRequest
	if *retire != "" {
		d, err := time.ParseDuration(*retire)
		if err != nil || d < 0 {
			return fmt.Errorf("--retire-after %q: want a duration like 49h or 0", *retire)
		}
		req.RetireAfter = &d
	}
	ctx, cancel := context.WithTimeout(ctx, *mf.timeout)
	defer cancel()
	var res satoken.RotateResult
	if err := store.CallAt(ctx, *mf.dataDir, *mf.peer, member.OpRotateServiceAccountKey, &req, &res); err != nil {
		return fmt.Errorf("rotate the ServiceAccount signing key: %w", err)
	}
	fmt.Fprintf(io.out, "new signing key %s signs ServiceAccount tokens from now on\n", res.KeyID)
	for _, p := range res.Previous {
		fmt.Fprintf(io.out, "key %s verifies the tokens it signed until %s\n", p.ID, p.RetireAt.UTC().Format(time.RFC3339))
	}
	for _, id := range res.Dropped {
		fmt.Fprintf(io.out, "retired key %s removed\n", id)
	}
	return nil
}

// rotateAdminCmd is `weir token rotate-admin`: the leader gives every
// member a new cluster token (each writes it to its DATA-DIR/token and
// accepts it) and, only once all of them have it, makes every member drop
// the old one. Then the kubeconfigs on this host that carry the old token
// (those `weir up` writes, and each --kubeconfig) get the new one.
func rotateAdminCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("token rotate-admin", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir token rotate-admin [--data-dir DIR] [--peer HOST:PORT] [--kubeconfig FILE]...\n\n"+
			"Run on a control member's host: replaces the cluster admin token (DATA-DIR/token) on every member.")
		fs.PrintDefaults()
	}
	mf := addMemberFlags(fs)
	var kubeconfigs groupList
	fs.Var(&kubeconfigs, "kubeconfig", "another kubeconfig to update if it carries the old token (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", pos)
	}
	tokenFile := filepath.Join(*mf.dataDir, "token")
	oldData, err := os.ReadFile(tokenFile)
	if err != nil {
		return fmt.Errorf("read the current token: %w (pass a control member's --data-dir; run as root?)", err)
	}
	old := strings.TrimSpace(string(oldData))
	ctx, cancel := context.WithTimeout(ctx, *mf.timeout)
	defer cancel()
	res, err := store.RotateTokenAt(ctx, *mf.dataDir, *mf.peer)
	if err != nil {
		return fmt.Errorf("rotate the admin token: %w", err)
	}
	fmt.Fprintf(io.out, "new admin token in force on %s, each in its DATA-DIR/token; the old token no longer authenticates\n",
		strings.Join(res.Members, ", "))
	fmt.Fprintf(io.out, "new token written to %s\n", tokenFile)
	var errs []error
	for _, p := range adminKubeconfigs(*mf.dataDir, kubeconfigs) {
		switch ok, err := replaceKubeconfigToken(p, old, res.Token); {
		case err != nil:
			errs = append(errs, fmt.Errorf("update %s: %w", p, err))
		case ok:
			fmt.Fprintf(io.out, "updated %s\n", p)
		}
	}
	return errors.Join(errs...)
}

// adminKubeconfigs are the kubeconfigs that may carry the admin token on
// this host: those `weir up` writes (DATA-DIR/kubeconfig beside the
// member's dir, ~/.kube/weir.config of root and of the sudo user) and
// the extra ones named.
func adminKubeconfigs(memberDir string, extra []string) []string {
	paths := []string{filepath.Join(filepath.Dir(memberDir), "kubeconfig"), filepath.Join(memberDir, "kubeconfig")}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".kube", "weir.config"))
	}
	if name := os.Getenv("SUDO_USER"); name != "" && name != "root" {
		if u, err := user.Lookup(name); err == nil {
			paths = append(paths, filepath.Join(u.HomeDir, ".kube", "weir.config"))
		}
	}
	out := []string{}
	for _, p := range append(paths, extra...) {
		if _, err := os.Stat(p); err == nil && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// replaceKubeconfigToken puts tok in place of old in every user of the
// kubeconfig at path, keeping the file's owner; false when no user
// carries old.
func replaceKubeconfigToken(path, old, tok string) (bool, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ai := range cfg.AuthInfos {
		if ai.Token == old {
			ai.Token, changed = tok, true
		}
	}
	if !changed {
		return false, nil
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if err := client.WriteFileAtomic(path, data); err != nil {
		return false, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		_ = os.Chown(path, int(st.Uid), int(st.Gid))
	}
	return true, nil
}
