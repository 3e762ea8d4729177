package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltOptions are the bbolt options of both databases (state.db and the
// raft log, raft.db). Every commit still fsyncs (data pages, then the
// meta page), so a committed transaction survives kill -9 and power loss.
//
// NoFreelistSync: the free-page list is not written on each commit (one
// page less per commit, and no serialising a list that grows with the
// pages freed by log truncation and history compaction); bbolt rebuilds it
// by scanning the pages when it opens a database whose list was not
// synced. The list is only an allocation cache: the B+tree pages reached
// from the synced meta page are the data. The map freelist keeps
// allocation and freeing cheap when the list is long.
//
// InitialMmapSize maps that much up front, so that a growing database is
// not remapped (which waits for every open read transaction) until then.
func boltOptions(initialMmap int) *bolt.Options {
	return &bolt.Options{
		Timeout:         5 * time.Second,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: initialMmap,
	}
}
