package cni

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni/ipam"
)

// newError builds a CNI error result. The message always names the field,
// variable or resource at fault and says what to do next.
func newError(code uint, format string, args ...any) *types.Error {
	return types.NewError(code, fmt.Sprintf(format, args...), "")
}

// ipamError maps an IPAM failure to its CNI code: 11 when another process
// holds the store's lock (try again later), 50 when the store cannot serve
// (unusable data dir or file, or no free address left).
func ipamError(conf *Config, err error) *types.Error {
	path := ipam.Path(conf.DataDir, conf.Name)
	switch {
	case errors.Is(err, ipam.ErrBusy):
		return newError(types.ErrTryAgainLater, "IPAM store %s is busy: %v", path, err)
	case errors.Is(err, ipam.ErrExhausted):
		return newError(types.ErrPluginNotAvailable, "IPAM store %s: %v", path, err)
	default:
		return newError(types.ErrPluginNotAvailable, "IPAM store %s cannot be used: %v: check that field \"dataDir\" (%s) is a writable local directory", path, err, conf.DataDir)
	}
}
