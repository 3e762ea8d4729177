package dns

import "maps"

// fullIndex builds every shard from the store.
func (st *store) fullIndex(serial uint32) *index {
	ix := st.emptyIndex(serial)
	per := len(st.names)/numShards + 1
	for i := range ix.shards {
		ix.shards[i] = make(map[string]*node, per)
	}
	for name, ns := range st.names {
		if n := newNode(ns); n != nil {
			ix.shards[shardOf(name)][name] = n
		}
	}
	return ix
}

// patchIndex returns a copy of cur in which the dirty names are rebuilt.
// Only the shards holding dirty names are copied; the rest are shared.
func (st *store) patchIndex(cur *index, dirty map[string]struct{}, serial uint32) *index {
	ix := st.emptyIndex(serial)
	ix.shards = cur.shards
	var copied [numShards]bool
	for name := range dirty {
		i := shardOf(name)
		if !copied[i] {
			ix.shards[i] = maps.Clone(cur.shards[i])
			copied[i] = true
		}
		if n := newNode(st.names[name]); n != nil {
			ix.shards[i][name] = n
		} else {
			delete(ix.shards[i], name)
		}
	}
	return ix
}

func (st *store) emptyIndex(serial uint32) *index {
	return &index{
		soa:  newSOA(st.d.zone, serial, st.d.ttl),
		zone: st.d.zone,
		pods: st.d.pods,
		ttl:  st.d.ttl,
	}
}
