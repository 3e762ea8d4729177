package dataplane

import (
	"encoding/binary"
	"hash/fnv"
)

// maglevBackend is a backend as Maglev sees it: its name (address:port)
// decides its permutation, so every node builds the same table from the same
// backend set; id is this node's backend id written into the table.
type maglevBackend struct {
	name string
	id   uint32
}

// maglevTable fills a table of m entries (m prime) with backend ids, each
// backend taking turns claiming the next free entry of its own permutation
// (Eisenbud et al., "Maglev", NSDI 2016). bs must be in a node-independent
// order (slot order: sorted by address and port). Empty bs: nil.
func maglevTable(bs []maglevBackend, m int) []uint32 {
	if len(bs) == 0 {
		return nil
	}
	offset := make([]uint64, len(bs))
	skip := make([]uint64, len(bs))
	for i, b := range bs {
		offset[i] = hashName(b.name, 0x6d61676c) % uint64(m)
		skip[i] = hashName(b.name, 0x65763173)%uint64(m-1) + 1
	}
	table := make([]uint32, m)
	taken := make([]bool, m)
	next := make([]uint64, len(bs))
	for filled := 0; filled < m; {
		for i := range bs {
			c := (offset[i] + next[i]*skip[i]) % uint64(m)
			for taken[c] {
				next[i]++
				c = (offset[i] + next[i]*skip[i]) % uint64(m)
			}
			table[c] = bs[i].id
			taken[c] = true
			next[i]++
			if filled++; filled == m {
				break
			}
		}
	}
	return table
}

func hashName(name string, seed uint32) uint64 {
	h := fnv.New64a()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	return h.Sum64()
}

// tableSum identifies a table's content; never 0 (0 means "no table").
func tableSum(t []uint32) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, id := range t {
		binary.LittleEndian.PutUint32(b[:], id)
		h.Write(b[:])
	}
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}
