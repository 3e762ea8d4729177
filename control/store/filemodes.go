package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
)

// Every file of a data dir is private: the dir and its subdirs 0700, files
// 0600. Open tightens a pre-existing dir (made by an older weir, or copied
// with a loose umask); raft's snapshot store creates its files with the
// process umask, so each finished snapshot is tightened too.

// TightenDataDir makes dir 0700 and everything under it 0700 (dirs) or
// 0600 (files). Symlinks are left alone.
func TightenDataDir(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path != dir {
			return nil // removed meanwhile (a temp file renamed away)
		}
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return chmodIfLoose(path, d, 0o700)
		case d.Type().IsRegular():
			return chmodIfLoose(path, d, 0o600)
		}
		return nil
	})
}

func chmodIfLoose(path string, d fs.DirEntry, want fs.FileMode) error {
	info, err := d.Info()
	if err == nil && info.Mode().Perm() != want {
		err = os.Chmod(path, want)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// privateSnapshots is raft's file snapshot store with each snapshot's
// files tightened once written.
type privateSnapshots struct {
	*raft.FileSnapshotStore
	dir string // the snapshots directory
}

func newPrivateSnapshots(dataDir string, fss *raft.FileSnapshotStore) (*privateSnapshots, error) {
	dir := filepath.Join(dataDir, "snapshots")
	if err := TightenDataDir(dir); err != nil {
		return nil, err
	}
	return &privateSnapshots{FileSnapshotStore: fss, dir: dir}, nil
}

func (p *privateSnapshots) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := p.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &privateSink{SnapshotSink: sink, dir: p.dir}, nil
}

type privateSink struct {
	raft.SnapshotSink
	dir string
}

func (s *privateSink) Close() error {
	if err := s.SnapshotSink.Close(); err != nil {
		return err
	}
	return TightenDataDir(filepath.Join(s.dir, s.ID()))
}
