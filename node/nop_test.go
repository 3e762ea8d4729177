package node

import (
	"context"

	"github.com/weirnet/weir/dataplane"
)

// nopDataplane and nopRoutes accept anything: only for the fuzz test of
// the pure conversion path (the kernel side is tested for real in TestTwoNodes).
type nopDataplane struct{}

func (nopDataplane) Sync(context.Context, dataplane.Desired) (dataplane.SyncStats, error) {
	return dataplane.SyncStats{}, nil
}

type nopRoutes struct{}

func (nopRoutes) Reconcile([]Route) error { return nil }

func (nopDataplane) Resync(context.Context, dataplane.Desired) (dataplane.SyncStats, error) {
	return dataplane.SyncStats{}, nil
}

func (nopDataplane) Upsert(context.Context, ...dataplane.Service) (dataplane.SyncStats, error) {
	return dataplane.SyncStats{}, nil
}

func (nopDataplane) Delete(context.Context, ...dataplane.Service) (dataplane.SyncStats, error) {
	return dataplane.SyncStats{}, nil
}
