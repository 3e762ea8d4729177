package cni_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := cni.ParseConfig([]byte(`{"cniVersion":"1.1.0","name":"weir","type":"weir-cni","podCIDR":"10.244.1.0/24"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Range.String() != "10.244.1.0/24" || c.MTU != 0 || c.DataDir != "/var/lib/weir/ipam" || !c.AttachPrograms ||
		c.DataplaneInstance != "weir" || c.AgentSocket != "/run/weir/agent.sock" || c.LockTimeout != 20*time.Second || c.PrevResult != nil {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseConfigFields(t *testing.T) {
	c, err := cni.ParseConfig([]byte(`{"cniVersion":"1.0.0","name":"n1","type":"weir-cni","podCIDR":"10.1.0.0/16",
		"mtu":1450,"dataDir":"/tmp/x","attachPrograms":false,"dataplaneInstance":"node-2","agentSocket":"/tmp/a.sock",
		"lockTimeout":"2s","dns":{"nameservers":["10.96.0.10"]},"runtimeConfig":{"portMappings":[]},"capabilities":{"portMappings":true},
		"args":{"cni":{}},"ipam":{},"cni.dev/valid-attachments":[{"containerID":"c","ifname":"eth0"}],
		"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"x"}],"ips":[{"address":"10.1.0.5/32","interface":0}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.MTU != 1450 || c.DataDir != "/tmp/x" || c.AttachPrograms || c.DataplaneInstance != "node-2" || c.LockTimeout != 2*time.Second ||
		len(c.DNS.Nameservers) != 1 || len(c.ValidAttachments) != 1 || c.PrevResult == nil || len(c.PrevResult.IPs) != 1 {
		t.Fatalf("fields: %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := `"cniVersion":"1.1.0","name":"weir","type":"weir-cni"`
	tests := map[string]uint{
		`[]`:                         types.ErrDecodingFailure,
		`{` + base + `,"podCIDR":5}`: types.ErrDecodingFailure,
		`{` + base + `,"podCIDR":"10.0.0.0/8","prevResult":{"ips":"x"}}`: types.ErrDecodingFailure,
		`{` + base + `}`:                       types.ErrInvalidNetworkConfig,
		`{` + base + `,"podCIDR":"fd00::/64"}`: types.ErrInvalidNetworkConfig,
		`{` + base + `,"podCIDR":"10.0.0.0/8","dataplaneInstance":"../x"}`:                        types.ErrInvalidNetworkConfig,
		`{` + base + `,"podCIDR":"10.0.0.0/8","cni.dev/valid-attachments":[{"containerID":"c"}]}`: types.ErrInvalidNetworkConfig,
		`{"cniVersion":"0.3.1","name":"weir","type":"weir-cni","podCIDR":"10.0.0.0/8"}`:           types.ErrIncompatibleCNIVersion,
		`{` + base + `,"podCIDR":"10.0.0.0/8","MTU":1400}`:                                        types.ErrUnsupportedField,
		`{"cniVersion":"1.1.0","name":"../x","type":"weir-cni","podCIDR":"10.0.0.0/8"}`:           types.ErrInvalidNetworkConfig,
	}
	for in, code := range tests {
		_, err := cni.ParseConfig([]byte(in))
		var e *types.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("ParseConfig(%s) = %v, want CNI code %d", in, err, code)
		}
	}
}

// FuzzConfig feeds arbitrary stdin to the parser: it must never panic,
// must fail only with a spec code that the runtime understands, and what
// it accepts must be usable as is.
func FuzzConfig(f *testing.F) {
	for _, seed := range []string{
		`{"cniVersion":"1.1.0","name":"weir","type":"weir-cni","podCIDR":"10.244.1.0/24"}`,
		`{"cniVersion":"1.0.0","name":"w","type":"weir-cni","podCIDR":"10.0.0.0/30","mtu":9000,"lockTimeout":"1ms"}`,
		`{"cniVersion":"1.1.0","name":"weir","type":"weir-cni","podCIDR":"10.244.1.0/24","prevResult":{"interfaces":[{"name":"a","sandbox":"/x"}],"ips":[{"address":"1.2.3.4/32","interface":0}],"routes":[{"dst":"0.0.0.0/0"}]}}`,
		`{"cniVersion":"1.1.0","name":"weir","type":"weir-cni","podCIDR":"10.244.1.0/24","cni.dev/valid-attachments":[{"containerID":"a","ifname":"b"}]}`,
		`{"ipam":{"type":"host-local"}}`, `null`, `{}`, `{"mtu":-1}`, `{"podCIDR":"10.244.1.5/24"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cni.ParseConfig(data)
		if err != nil {
			var e *types.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a CNI error", err)
			}
			switch e.Code {
			case types.ErrIncompatibleCNIVersion, types.ErrUnsupportedField, types.ErrDecodingFailure, types.ErrInvalidNetworkConfig:
			default:
				t.Fatalf("unexpected CNI code %d: %v", e.Code, e)
			}
			if _, jerr := json.Marshal(e); jerr != nil || e.Msg == "" {
				t.Fatalf("error does not render: %v", jerr)
			}
			return
		}
		if c.Range.Size() == 0 || !c.Range.Prefix().Addr().Is4() || c.Range.Gateway() == c.Range.First() {
			t.Fatalf("accepted unusable range %s", c.Range)
		}
		if (c.MTU != 0 && (c.MTU < 68 || c.MTU > 65535)) || !filepath.IsAbs(c.DataDir) || !filepath.IsAbs(c.AgentSocket) || c.LockTimeout <= 0 {
			t.Fatalf("accepted invalid config %+v", c)
		}
		if filepath.Base(filepath.Join("/x", c.DataplaneInstance)) != c.DataplaneInstance || filepath.Base(filepath.Join("/x", c.Name+".db")) != c.Name+".db" {
			t.Fatalf("instance %q or name %q escapes its directory", c.DataplaneInstance, c.Name)
		}
	})
}
