package cni

import (
	"encoding/json"
	"regexp"
	"sort"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

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
