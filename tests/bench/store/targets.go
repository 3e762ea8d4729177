package store

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// benchNamespace holds every benchmark object.
const benchNamespace = "bench"

// errExists: the object is already there (a retried create that landed).
var errExists = errors.New("object already exists")

// weirCreate is a create through weir's API: POST of the object's JSON,
// worker w going to member w%3 (spread) or to the leader.
func weirCreate(c *cluster.Cluster, kind objectKind, prefix string, leader int) opFunc {
	path := fmt.Sprintf("/api/v1/namespaces/%s/%s", benchNamespace, kind.Resource)
	return func(ctx context.Context, worker, seq int) error {
		m := c.Members[worker%len(c.Members)]
		if leader >= 0 {
			m = c.Members[leader]
		}
		r, err := m.Client.Do(ctx, "POST", path, kind.body(benchNamespace, fmt.Sprintf("%s-%d-%d", prefix, worker, seq)))
		if err != nil {
			return err
		}
		if r.Code == 409 {
			return fmt.Errorf("POST %s via %s: %w", path, m.Name, errExists)
		}
		if r.Code != 201 {
			return fmt.Errorf("POST %s via %s: %d %.200s", path, m.Name, r.Code, r.Body)
		}
		return nil
	}
}

// etcdCreate stores the same JSON bytes under /registry/RESOURCE/NS/NAME
// the way kube-apiserver creates: a Put guarded by "key does not exist"
// in one Txn.
func etcdCreate(cli *clientv3.Client, kind objectKind, prefix string) opFunc {
	return func(ctx context.Context, worker, seq int) error {
		name := fmt.Sprintf("%s-%d-%d", prefix, worker, seq)
		key := fmt.Sprintf("/registry/%s/%s/%s", kind.Resource, benchNamespace, name)
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(kind.body(benchNamespace, name)))).
			Commit()
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			return fmt.Errorf("etcd create %s: %w", key, errExists)
		}
		return nil
	}
}
