package store

import (
	"encoding/json"
	"strings"
)

// objectKind is one benchmarked object type: its API resource and a body
// of a fixed size.
type objectKind struct {
	Label    string // for the report, e.g. "ConfigMap 256 B"
	Resource string // plural, core group
	Size     int    // bytes of JSON
	template func(ns, name, pad string) any
}

var kinds = []objectKind{
	{Label: "ConfigMap 256 B", Resource: "configmaps", Size: 256, template: configMapObject},
	{Label: "Pod 4 KiB", Resource: "pods", Size: 4096, template: podObject},
}

func configMapObject(ns, name, pad string) any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]string{"app": "bench"}},
		"data":     map[string]string{"payload": pad},
	}
}

func podObject(ns, name, pad string) any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": name, "namespace": ns,
			"labels":      map[string]string{"app": "bench", "tier": "backend"},
			"annotations": map[string]string{"bench.weir.dev/padding": pad},
		},
		"spec": map[string]any{
			// A scheduler that does not run: weir's own scheduler (on the
			// leader) would add a status write and an event per pod, which
			// etcd alone never sees.
			"schedulerName": "bench-unscheduled",
			"containers": []any{map[string]any{
				"name": "app", "image": "registry.example/bench/app:1.0",
				"args":  []string{"--listen=:8080", "--log-level=info"},
				"ports": []any{map[string]any{"name": "http", "containerPort": 8080, "protocol": "TCP"}},
				"env":   []any{map[string]any{"name": "MODE", "value": "bench"}},
				"resources": map[string]any{
					"requests": map[string]string{"cpu": "100m", "memory": "64Mi"},
					"limits":   map[string]string{"cpu": "500m", "memory": "128Mi"},
				},
				"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": 8080}},
			}},
		},
	}
}

// body is the JSON of an object named name, padded to k.Size bytes (or
// minimal when the name alone makes it larger).
func (k objectKind) body(ns, name string) []byte {
	base, _ := json.Marshal(k.template(ns, name, ""))
	n := k.Size - len(base)
	if n < 0 {
		n = 0
	}
	b, _ := json.Marshal(k.template(ns, name, strings.Repeat("x", n)))
	return b
}
