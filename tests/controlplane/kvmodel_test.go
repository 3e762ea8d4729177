package controlplane

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// The linearizability model: one register per key (a ConfigMap's
// data.v), partitioned by key. Every write writes a value never written
// before, so "the object is still at the resourceVersion the client read"
// is the same as "the register still holds the value the client read":
// a PUT with resourceVersion is a compare-and-swap on values.
type kvInput struct {
	op    string // get, put, cas
	key   string
	old   string // cas: the value read together with the resourceVersion sent
	value string // put, cas: the new value
}

type kvOutput struct {
	value   string // get: the value read
	ok      bool   // put, cas: applied (false: 409, definitely not applied)
	unknown bool   // put, cas: no answer; recorded as returning at the end
}

// initialValue is every key's value before the history starts.
const initialValue = "init"

var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return initialValue },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(kvInput), output.(kvOutput)
		switch in.op {
		case "get":
			return out.value == s, s
		case "put":
			if out.unknown || out.ok {
				return true, in.value
			}
			return true, s // refused: nothing changed
		case "cas":
			switch {
			case out.unknown:
				if s == in.old {
					return true, in.value
				}
				return true, s
			case out.ok:
				return s == in.old, in.value
			default:
				return s != in.old, s
			}
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		res := "ok"
		switch {
		case out.unknown:
			res = "unknown"
		case in.op != "get" && !out.ok:
			res = "conflict"
		}
		switch in.op {
		case "get":
			return fmt.Sprintf("get(%s) -> %s", in.key, out.value)
		case "put":
			return fmt.Sprintf("put(%s, %s) -> %s", in.key, in.value, res)
		}
		return fmt.Sprintf("cas(%s, %s -> %s) -> %s", in.key, in.old, in.value, res)
	},
	DescribeState: func(state any) string { return state.(string) },
}
