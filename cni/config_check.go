package cni

import (
	"net/netip"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/weirnet/weir/cni/ipam"
)

// The validation steps of ParseConfig, in order. Each fills its part of
// Config or returns the CNI error naming the field.

func checkIdentity(raw *rawConfig, c *Config) *types.Error {
	if err := utils.ValidateNetworkName(raw.Name); err != nil {
		return newError(types.ErrInvalidNetworkConfig, "field \"name\": %q is not a valid network name: %s", raw.Name, err.Error())
	}
	if raw.Type == "" {
		return newError(types.ErrInvalidNetworkConfig, "field \"type\" is missing: set it to \"weir-cni\"")
	}
	if !supported(raw.CNIVersion) {
		return newError(types.ErrIncompatibleCNIVersion, "field \"cniVersion\": %q is not supported: weir-cni speaks %v", raw.CNIVersion, Versions.SupportedVersions())
	}
	if raw.IPAM != nil && string(raw.IPAM) != "null" && string(raw.IPAM) != "{}" {
		return newError(types.ErrUnsupportedField, "unsupported field \"ipam\": %s: weir-cni allocates addresses from podCIDR itself; remove the ipam section", clip(raw.IPAM))
	}
	return nil
}

func supported(v string) bool {
	for _, s := range Versions.SupportedVersions() {
		if v == s {
			return true
		}
	}
	return false
}

func checkPodCIDR(raw *rawConfig, c *Config) *types.Error {
	if raw.PodCIDR == "" {
		return newError(types.ErrInvalidNetworkConfig, "field \"podCIDR\" is missing: set it to the node's pod CIDR, e.g. \"10.244.1.0/24\"")
	}
	p, err := netip.ParsePrefix(raw.PodCIDR)
	if err != nil {
		return newError(types.ErrInvalidNetworkConfig, "field \"podCIDR\": %q is not a CIDR: %v", raw.PodCIDR, err)
	}
	r, err := ipam.NewRange(p)
	if err != nil {
		return newError(types.ErrInvalidNetworkConfig, "field \"podCIDR\": %v", err)
	}
	c.Range = r
	return nil
}

func checkMTU(raw *rawConfig, c *Config) *types.Error {
	if raw.MTU == nil {
		return nil
	}
	if *raw.MTU < 68 || *raw.MTU > 65535 {
		return newError(types.ErrInvalidNetworkConfig, "field \"mtu\": %d is out of range: use 68 to 65535, or leave it out for the kernel default", *raw.MTU)
	}
	c.MTU = *raw.MTU
	return nil
}

func checkPaths(raw *rawConfig, c *Config) *types.Error {
	c.DataDir, c.AgentSocket = orDefault(raw.DataDir, DefaultDataDir), orDefault(raw.AgentSocket, DefaultAgentSocket)
	for _, f := range [][2]string{{"dataDir", c.DataDir}, {"agentSocket", c.AgentSocket}} {
		if !filepath.IsAbs(f[1]) {
			return newError(types.ErrInvalidNetworkConfig, "field %q: %q is not an absolute path", f[0], f[1])
		}
	}
	return nil
}

func checkDataplane(raw *rawConfig, c *Config) *types.Error {
	c.AttachPrograms = raw.AttachPrograms == nil || *raw.AttachPrograms
	c.DataplaneInstance = orDefault(raw.DataplaneInstance, DefaultInstance)
	if !instanceName.MatchString(c.DataplaneInstance) {
		return newError(types.ErrInvalidNetworkConfig, "field \"dataplaneInstance\": %q is not a valid instance name: use letters, digits, '_', '.' and '-'", c.DataplaneInstance)
	}
	return nil
}

func checkLockTimeout(raw *rawConfig, c *Config) *types.Error {
	c.LockTimeout = ipam.DefaultLockTimeout
	if raw.LockTimeout == "" {
		return nil
	}
	d, err := time.ParseDuration(raw.LockTimeout)
	if err != nil || d <= 0 || d > maxLockTimeout {
		return newError(types.ErrInvalidNetworkConfig, "field \"lockTimeout\": %q is not a duration between 0 and %s, such as \"20s\"", raw.LockTimeout, maxLockTimeout)
	}
	c.LockTimeout = d
	return nil
}

func checkPrevResult(raw *rawConfig, c *Config) *types.Error {
	if raw.PrevResult == nil {
		return nil
	}
	pc := &types.PluginConf{CNIVersion: raw.CNIVersion, RawPrevResult: raw.PrevResult}
	if err := version.ParsePrevResult(pc); err != nil {
		return newError(types.ErrDecodingFailure, "field \"prevResult\": %v", err)
	}
	res, err := current.NewResultFromResult(pc.PrevResult)
	if err != nil {
		return newError(types.ErrDecodingFailure, "field \"prevResult\": %v", err)
	}
	c.PrevResult = res
	return nil
}

func checkAttachments(raw *rawConfig, c *Config) *types.Error {
	for i, a := range raw.ValidAttachments {
		if a.ContainerID == "" || a.IfName == "" {
			return newError(types.ErrInvalidNetworkConfig, "field \"cni.dev/valid-attachments\"[%d]: containerID and ifname must both be set", i)
		}
		c.ValidAttachments = append(c.ValidAttachments, ipam.Key{ContainerID: a.ContainerID, IfName: a.IfName})
	}
	return nil
}
