package cni

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/weirnet/weir/cni/ipam"
)

// Defaults for the optional configuration fields.
const (
	DefaultDataDir     = "/var/lib/weir/ipam"
	DefaultInstance    = "weir"
	DefaultAgentSocket = "/run/weir/agent.sock"
	maxLockTimeout     = 10 * time.Minute
)

// Config is a parsed and validated weir-cni network configuration.
type Config struct {
	CNIVersion        string
	Name              string
	Type              string
	Range             ipam.Range
	MTU               int // 0: kernel default
	DataDir           string
	AttachPrograms    bool
	DataplaneInstance string
	AgentSocket       string
	LockTimeout       time.Duration
	DNS               types.DNS
	PrevResult        *current.Result // nil when the runtime sent none
	ValidAttachments  []ipam.Key      // GC only
}

// rawConfig mirrors the JSON fields weir-cni reads.
type rawConfig struct {
	CNIVersion        string
	Name              string
	Type              string
	PodCIDR           string
	MTU               *int
	DataDir           string
	AttachPrograms    *bool
	DataplaneInstance string
	AgentSocket       string
	LockTimeout       string
	DNS               types.DNS
	IPAM              json.RawMessage
	PrevResult        map[string]any
	ValidAttachments  []types.GCAttachment
}

// targets maps each JSON field weir-cni reads to where it is decoded.
func (r *rawConfig) targets() map[string]any {
	return map[string]any{
		"cniVersion": &r.CNIVersion, "name": &r.Name, "type": &r.Type, "podCIDR": &r.PodCIDR,
		"mtu": &r.MTU, "dataDir": &r.DataDir, "attachPrograms": &r.AttachPrograms,
		"dataplaneInstance": &r.DataplaneInstance, "agentSocket": &r.AgentSocket,
		"lockTimeout": &r.LockTimeout, "dns": &r.DNS, "ipam": &r.IPAM, "prevResult": &r.PrevResult,
		"cni.dev/valid-attachments": &r.ValidAttachments,
	}
}

// passThrough are fields the spec lets runtimes put in any plugin's
// configuration; weir-cni accepts and ignores them.
var passThrough = map[string]bool{
	"args": true, "capabilities": true, "runtimeConfig": true, "cniVersions": true,
	"disableCheck": true, "disableGC": true,
}

var instanceName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ParseConfig decodes and validates the network configuration a runtime
// writes to the plugin's stdin. Errors are *types.Error with the spec's
// codes: 1 unsupported cniVersion, 2 unsupported field, 6 undecodable
// content, 7 invalid value; each message names the field.
func ParseConfig(data []byte) (*Config, error) {
	var raw rawConfig
	if err := decodeFields(data, &raw); err != nil {
		return nil, err
	}
	c := &Config{CNIVersion: raw.CNIVersion, Name: raw.Name, Type: raw.Type, DNS: raw.DNS}
	for _, step := range []func(*rawConfig, *Config) *types.Error{
		checkIdentity, checkPodCIDR, checkMTU, checkPaths, checkDataplane, checkLockTimeout,
		checkPrevResult, checkAttachments,
	} {
		if err := step(&raw, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func decodeFields(data []byte, raw *rawConfig) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return newError(types.ErrDecodingFailure, "decode network configuration: %v: stdin must be one JSON object", err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	targets := raw.targets()
	for _, k := range keys {
		target, known := targets[k]
		if !known && !passThrough[k] {
			return newError(types.ErrUnsupportedField, "unsupported field %q: %s: weir-cni does not know it; remove it or fix its spelling", k, clip(fields[k]))
		}
		if known {
			if err := json.Unmarshal(fields[k], target); err != nil {
				return newError(types.ErrDecodingFailure, "field %q: cannot decode %s: %v", k, clip(fields[k]), err)
			}
		}
	}
	return nil
}

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
	for field, p := range map[string]string{"dataDir": c.DataDir, "agentSocket": c.AgentSocket} {
		if !filepath.IsAbs(p) {
			return newError(types.ErrInvalidNetworkConfig, "field %q: %q is not an absolute path", field, p)
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

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// clip shortens a raw JSON value for an error message.
func clip(raw json.RawMessage) string {
	const max = 64
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}
