package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/weirnet/weir/control/encrypt"
	"github.com/weirnet/weir/control/store"
)

func runEncryption(ctx context.Context, args []string) error {
	return encryptionCmd(ctx, stdio(), args)
}

// encryptionCmd manages the encryption of Secrets at rest, on a control
// member's host: `weir encryption keys` lists the key names of the
// member's encryption config (the writing key first); `weir encryption
// rotate` asks the cluster, through the member's peer port and with its
// member certificate, to add a new key, re-encrypt every encrypted value
// with it and drop the old keys (--keep-old keeps them readable).
func encryptionCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("encryption", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir encryption keys|rotate [--data-dir DIR] [--peer HOST:PORT] [--keep-old]")
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", "/var/lib/weir/control", "a control member's data directory (its member certificate and encryption config)")
	peer := fs.String("peer", "127.0.0.1:2380", "that member's peer address")
	keepOld := fs.Bool("keep-old", false, "rotate: keep the old keys readable (drop them with another rotation)")
	timeout := fs.Duration("timeout", 10*time.Minute, "rotate: give up after this long")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("want one of keys, rotate; got %q", pos)
	}
	switch pos[0] {
	case "keys":
		c, err := encrypt.Load(filepath.Join(*dataDir, store.EncryptionFile))
		if err != nil {
			return fmt.Errorf("%w (Secrets are stored in plaintext until `weir encryption rotate`)", err)
		}
		for _, k := range c.KeyNames() {
			fmt.Fprintln(io.out, k)
		}
		return nil
	case "rotate":
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		res, err := store.RotateEncryptionAt(ctx, *dataDir, *peer, *keepOld)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "new key %s writes on every member; %d values re-encrypted\n", res.Key, res.Rewritten)
		if len(res.Dropped) > 0 {
			fmt.Fprintf(io.out, "dropped keys: %s\n", strings.Join(res.Dropped, ", "))
		}
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown subcommand %q", pos[0])
}
