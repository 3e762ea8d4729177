package dataplane

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// batchChunk bounds one batch syscall (and the time between ctx checks).
const batchChunk = 32768

// putAll writes keys[i] -> vals[i] with batch updates (kernel >= 5.6),
// element by element where batches are not supported.
func putAll[K, V any](m *ebpf.Map, keys []K, vals []V) error {
	for i := 0; i < len(keys); i += batchChunk {
		j := min(i+batchChunk, len(keys))
		_, err := m.BatchUpdate(keys[i:j], vals[i:j], nil)
		if errors.Is(err, ebpf.ErrNotSupported) {
			err = putEach(m, keys[i:j], vals[i:j])
		}
		if err != nil {
			return fmt.Errorf("write %d entries to %s: %w", j-i, mapName(m), err)
		}
	}
	return nil
}

func putEach[K, V any](m *ebpf.Map, keys []K, vals []V) error {
	for i := range keys {
		if err := m.Update(&keys[i], &vals[i], ebpf.UpdateAny); err != nil {
			return err
		}
	}
	return nil
}

// deleteAll removes keys; keys already gone are skipped.
func deleteAll[K any](m *ebpf.Map, keys []K) error {
	for len(keys) > 0 {
		j := min(batchChunk, len(keys))
		n, err := m.BatchDelete(keys[:j], nil)
		switch {
		case err == nil:
			keys = keys[j:]
		case errors.Is(err, ebpf.ErrKeyNotExist):
			keys = keys[n+1:] // keys[n] is missing: skip it
		case errors.Is(err, ebpf.ErrNotSupported):
			if err := deleteEach(m, keys[:j]); err != nil {
				return err
			}
			keys = keys[j:]
		default:
			return fmt.Errorf("delete %d entries from %s: %w", j, mapName(m), err)
		}
	}
	return nil
}

func deleteEach[K any](m *ebpf.Map, keys []K) error {
	for i := range keys {
		if err := m.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("delete from %s: %w", mapName(m), err)
		}
	}
	return nil
}

// readAll calls fn for every entry, in batches where the kernel can.
func readAll[K, V any](m *ebpf.Map, fn func(k *K, v *V)) error {
	keys := make([]K, 4096)
	vals := make([]V, 4096)
	var cursor ebpf.MapBatchCursor
	for {
		n, err := m.BatchLookup(&cursor, keys, vals, nil)
		for i := 0; i < n; i++ {
			fn(&keys[i], &vals[i])
		}
		switch {
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return nil
		case errors.Is(err, ebpf.ErrNotSupported):
			return iterate(m, fn)
		case err != nil:
			return fmt.Errorf("read %s: %w", mapName(m), err)
		}
	}
}

func iterate[K, V any](m *ebpf.Map, fn func(k *K, v *V)) error {
	var k K
	var v V
	it := m.Iterate()
	for it.Next(&k, &v) {
		fn(&k, &v)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read %s: %w", mapName(m), err)
	}
	return nil
}

func mapName(m *ebpf.Map) string {
	if info, err := m.Info(); err == nil && info.Name != "" {
		return info.Name
	}
	return m.String()
}
