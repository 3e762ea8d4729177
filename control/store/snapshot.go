package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/weirnet/weir/control/encrypt"
)

// SaveSnapshot writes a consistent copy of the state (a bbolt database, the
// same format raft snapshots use) to w after a linearizable read barrier,
// and returns the revision it holds.
func (s *Store) SaveSnapshot(ctx context.Context, w io.Writer) (uint64, error) {
	if err := s.linearize(ctx, ReadOptions{}); err != nil {
		return 0, err
	}
	var rev uint64
	err := s.fsm.view(func(tx *bolt.Tx) error {
		rev = getU64(tx.Bucket(bucketMeta), keyApplied)
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save snapshot: %w", err)
	}
	return rev, nil
}

// Restore creates a new single-member cluster in dataDir from a snapshot
// file written by SaveSnapshot (like `etcdctl snapshot restore`): the state
// db is the snapshot, and a raft snapshot at the snapshot's revision names
// this member as the only voter, so revisions continue after it. Start the
// member afterwards without --bootstrap; other members then --join it.
func Restore(ctx context.Context, snapshotFile, dataDir, name, peerAddr string) error {
	if name == "" || peerAddr == "" {
		return errors.New("restore: member name and peer address are required")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "raft.db")); err == nil {
		return fmt.Errorf("restore: %s already holds a member; restore into an empty data dir", dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	rev, err := snapshotRevision(snapshotFile)
	if err != nil {
		return err
	}
	if err := checkSnapshotDecrypts(snapshotFile, dataDir); err != nil {
		return err
	}
	statePath := filepath.Join(dataDir, "state.db")
	if err := copyFile(snapshotFile, statePath); err != nil {
		return fmt.Errorf("restore: copy snapshot: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStore(dataDir, 2, io.Discard)
	if err != nil {
		return err
	}
	conf := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(name), Address: raft.ServerAddress(peerAddr), Suffrage: raft.Voter}}}
	_, trans := raft.NewInmemTransport(raft.ServerAddress(peerAddr))
	sink, err := snaps.Create(raft.SnapshotVersionMax, rev, 1, conf, rev, trans)
	if err != nil {
		return fmt.Errorf("restore: create raft snapshot: %w", err)
	}
	in, err := os.Open(statePath)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := io.Copy(sink, in); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("restore: write raft snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return err
	}
	logs, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dataDir, "raft.db")})
	if err != nil {
		return err
	}
	defer logs.Close()
	if err := logs.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		return err
	}
	return TightenDataDir(dataDir)
}

// snapshotRevision validates a snapshot file and returns its revision.
func snapshotRevision(path string) (uint64, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("restore: %s is not a weir snapshot: %w", path, err)
	}
	defer db.Close()
	var rev uint64
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || tx.Bucket(bucketObjects) == nil {
			return fmt.Errorf("restore: %s is not a weir snapshot (no meta/objects buckets)", path)
		}
		rev = getU64(m, keyApplied)
		return nil
	})
	if err == nil && rev == 0 {
		err = fmt.Errorf("restore: %s holds no applied revision", path)
	}
	return rev, err
}

// InstallEncryptionConfig copies the encryption config at src into dataDir
// (0600), for a member restored from a snapshot of the cluster that uses it.
func InstallEncryptionConfig(src, dataDir string) error {
	c, err := encrypt.Load(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	return c.Save(encryptionPath(dataDir))
}

// checkSnapshotDecrypts fails when the snapshot holds encrypted values that
// the encryption config in dataDir (copied there before the restore)
// cannot read: the restored member would serve none of them.
func checkSnapshotDecrypts(path, dataDir string) error {
	var tr *encrypt.Transformers
	c, err := encrypt.Load(encryptionPath(dataDir))
	switch {
	case err == nil:
		if tr, err = c.Transformers(); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("restore: %w", err)
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketObjects).ForEach(func(k, v []byte) error {
			key, err := decodeKey(k)
			if err != nil || len(v) < 16 || !bytes.HasPrefix(v[16:], encryptedPrefix) {
				return nil
			}
			if !tr.Covers(key.Resource) {
				return fmt.Errorf("restore: the snapshot holds encrypted values (%s): copy the %s of the cluster it came from into %s first (weir snapshot restore --encryption-config FILE)", key, EncryptionFile, dataDir)
			}
			if _, _, err := tr.FromStorage(key.Resource, k, v[16:]); err != nil {
				return fmt.Errorf("restore: %s does not decrypt with %s: %w", key, encryptionPath(dataDir), err)
			}
			return nil
		})
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFileSync(dst, in)
}
