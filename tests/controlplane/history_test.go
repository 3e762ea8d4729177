package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// history records operations with call and return times on one clock.
type history struct {
	t0 time.Time

	mu        sync.Mutex
	ops       []porcupine.Operation
	clients   int
	anomalies []string
}

func (h *history) now() int64 { return int64(time.Since(h.t0)) }

func (h *history) newClient() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients++
	return h.clients - 1
}

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

func (h *history) anomaly(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.anomalies = append(h.anomalies, fmt.Sprintf(format, args...))
}

// finish returns the operations with every unknown outcome ending after
// the last operation returned (porcupine's convention for indefinite
// operations: they may take effect at any time after their call, or never).
func (h *history) finish() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var end int64
	for _, op := range h.ops {
		if !op.Output.(kvOutput).unknown && op.Return > end {
			end = op.Return
		}
	}
	out := append([]porcupine.Operation(nil), h.ops...)
	for i := range out {
		if out[i].Output.(kvOutput).unknown {
			out[i].Return = end + 1
		}
	}
	return out
}

// kvClient is one client goroutine: random get/put/cas on random keys
// through random members.
type kvClient struct {
	h    *history
	c    *cluster.Cluster
	keys []string
	rng  *rand.Rand
	id   int // porcupine client id; a new one after each unknown outcome
	name string
	n    int
}

func (k *kvClient) run(ctx context.Context, until time.Time) {
	k.id = k.h.newClient()
	for time.Now().Before(until) && ctx.Err() == nil {
		time.Sleep(time.Duration(k.rng.IntN(10)) * time.Millisecond) // keeps the history checkable
		key := k.keys[k.rng.IntN(len(k.keys))]
		switch p := k.rng.Float64(); {
		case p < 0.4:
			k.get(ctx, key)
		case p < 0.65:
			k.write(ctx, kvInput{op: "put", key: key, value: k.nextValue()}, "")
		default:
			if v, rv, ok := k.get(ctx, key); ok {
				k.write(ctx, kvInput{op: "cas", key: key, old: v, value: k.nextValue()}, rv)
			}
		}
	}
}

func (k *kvClient) nextValue() string {
	k.n++
	return fmt.Sprintf("%s-%d", k.name, k.n)
}

func (k *kvClient) member() *cluster.Member { return k.c.Members[k.rng.IntN(len(k.c.Members))] }

// get records a read; a read without an answer is left out of the history.
func (k *kvClient) get(ctx context.Context, key string) (value, rv string, ok bool) {
	m := k.member()
	call := k.h.now()
	rctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	r, err := m.Client.Do(rctx, "GET", cmPath+"/"+key, nil)
	cancel()
	ret := k.h.now()
	if err != nil || r.Code >= 500 {
		k.pause(err)
		return "", "", false
	}
	if r.Code != 200 {
		k.h.anomaly("get %s on %s: %d %s", key, m.Name, r.Code, r.Body)
		return "", "", false
	}
	var cm struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &cm); err != nil {
		k.h.anomaly("get %s on %s: %v", key, m.Name, err)
		return "", "", false
	}
	in, out := kvInput{op: "get", key: key}, kvOutput{value: cm.Data["v"]}
	k.h.add(porcupine.Operation{ClientId: k.id, Input: in, Output: out, Call: call, Return: ret, Metadata: m.Name})
	return cm.Data["v"], cm.Metadata.ResourceVersion, true
}

// write is a PUT: unconditional (put) or with resourceVersion rv (cas).
func (k *kvClient) write(ctx context.Context, in kvInput, rv string) {
	m := k.member()
	meta := map[string]any{"name": in.key, "namespace": "default"}
	if rv != "" {
		meta["resourceVersion"] = rv
	}
	body, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": map[string]string{"v": in.value}})
	call := k.h.now()
	rctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	r, err := m.Client.Do(rctx, "PUT", cmPath+"/"+in.key, body)
	cancel()
	op := porcupine.Operation{ClientId: k.id, Input: in, Call: call, Return: k.h.now(), Metadata: m.Name}
	switch {
	case err != nil || r.Code >= 500:
		op.Output = kvOutput{unknown: true}
		k.h.add(op)
		k.pause(err)
		k.id = k.h.newClient() // this client's operation may still be pending
		return
	case r.Code == 200:
		op.Output = kvOutput{ok: true}
	case r.Code == 409:
		op.Output = kvOutput{ok: false}
	default:
		k.h.anomaly("%s %s on %s: %d %s", in.op, in.key, m.Name, r.Code, r.Body)
		return
	}
	k.h.add(op)
}

func (k *kvClient) pause(error) { time.Sleep(100 * time.Millisecond) }

// opRecord is an operation as JSON, for offline analysis of a failure.
type opRecord struct {
	Client int    `json:"client"`
	Op     string `json:"op"`
	Key    string `json:"key"`
	Old    string `json:"old,omitempty"`
	Value  string `json:"value,omitempty"`
	Out    string `json:"out"`
	Call   int64  `json:"call"`
	Return int64  `json:"return"`
	Member string `json:"member"`
}

func writeHistory(path string, ops []porcupine.Operation) error {
	recs := make([]opRecord, 0, len(ops))
	for _, op := range ops {
		in, out := op.Input.(kvInput), op.Output.(kvOutput)
		r := opRecord{Client: op.ClientId, Op: in.op, Key: in.key, Old: in.old, Value: in.value, Call: op.Call, Return: op.Return, Member: fmt.Sprint(op.Metadata)}
		switch {
		case out.unknown:
			r.Out = "unknown"
		case in.op == "get":
			r.Out = out.value
		case out.ok:
			r.Out = "ok"
		default:
			r.Out = "conflict"
		}
		recs = append(recs, r)
	}
	data, err := json.MarshalIndent(recs, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
