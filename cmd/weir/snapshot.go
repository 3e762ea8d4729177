package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/weirnet/weir/control/store"
)

func runSnapshot(ctx context.Context, args []string) error { return snapshotCmd(ctx, stdio(), args) }

// snapshotCmd: `weir snapshot save FILE` streams a snapshot from the
// server; `weir snapshot restore FILE --data-dir D --name N --peer
// HOST:PORT` makes a new single-member data dir from one, offline.
func snapshotCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: weir snapshot save FILE | weir snapshot restore FILE --data-dir D --name N --peer HOST:PORT")
	}
	switch args[0] {
	case "save":
		return snapshotSave(ctx, io, args[1:])
	case "restore":
		return snapshotRestore(ctx, io, args[1:])
	}
	return fmt.Errorf("unknown snapshot command %q: use save or restore", args[0])
}

func snapshotSave(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("snapshot save", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: weir snapshot save FILE")
	}
	c, _, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.SaveSnapshot(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "saved snapshot at revision %d to %s (%d bytes)\n", info.Revision, info.Path, info.Size)
	return nil
}

func snapshotRestore(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("snapshot restore", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	dataDir := fs.String("data-dir", "", "new, empty data directory for the restored member (required)")
	name := fs.String("name", "", "the restored member's name (required)")
	peer := fs.String("peer", "", "the restored member's peer address HOST:PORT (required)")
	encConfig := fs.String("encryption-config", "", "the encryption-config.yaml of the cluster the snapshot came from (needed to read its Secrets)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *dataDir == "" || *name == "" || *peer == "" {
		return errors.New("usage: weir snapshot restore FILE --data-dir D --name N --peer HOST:PORT")
	}
	if *encConfig != "" {
		if err := store.InstallEncryptionConfig(*encConfig, *dataDir); err != nil {
			return err
		}
	}
	if err := store.Restore(ctx, pos[0], *dataDir, *name, *peer); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "restored %s into %s as single member %q (peer %s); start it with "+
		"`weir server --name %s --data-dir %s --peer %s` (no --bootstrap), then --join other members to it\n",
		pos[0], *dataDir, *name, *peer, *name, *dataDir, *peer)
	return nil
}
