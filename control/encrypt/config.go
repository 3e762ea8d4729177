package encrypt

import (
	"context"
	"crypto/aes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"k8s.io/apiserver/pkg/storage/value"
	aestransformer "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"sigs.k8s.io/yaml"

	"github.com/weirnet/weir/control/internal/atomicfile"
)

// DefaultResources are the store resources a new cluster encrypts: the
// API's Secrets (bootstrap tokens are Secrets too) and the node-stream
// bookkeeping that holds the cluster CA's private key. A rotation adds any
// of them an older configuration lacks.
var DefaultResources = []string{"secrets", "_nodestream"}

const (
	apiVersion = "apiserver.config.k8s.io/v1"
	kind       = "EncryptionConfiguration"
	aesPrefix  = "k8s:enc:aesgcm:v1:"
)

// Config is an EncryptionConfiguration: the file format of
// kube-apiserver's --encryption-provider-config, restricted to the aesgcm
// and identity providers. Resources are store resource names ("secrets",
// "deployments.apps", "_nodestream").
type Config struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Resources  []ResourceConfig `json:"resources"`
}

// ResourceConfig is one group of resources and their providers.
type ResourceConfig struct {
	Resources []string         `json:"resources"`
	Providers []ProviderConfig `json:"providers"`
}

// ProviderConfig holds exactly one provider.
type ProviderConfig struct {
	AESGCM   *KeysConfig `json:"aesgcm,omitempty"`
	Identity *struct{}   `json:"identity,omitempty"`
}

// KeysConfig lists an aesgcm provider's keys, the first one writing.
type KeysConfig struct {
	Keys []Key `json:"keys"`
}

// Key is a named key, base64-encoded.
type Key struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// Generate is a new cluster's configuration: DefaultResources under one
// fresh AES-256 key, identity last (reads values from before encryption).
func Generate() (*Config, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	return &Config{APIVersion: apiVersion, Kind: kind, Resources: []ResourceConfig{{
		Resources: slices.Clone(DefaultResources),
		Providers: []ProviderConfig{{AESGCM: &KeysConfig{Keys: []Key{k}}}, {Identity: &struct{}{}}},
	}}}, nil
}

// NewKey is a fresh random 32-byte key named after the current time (and
// a random suffix, so that two keys made in one second differ).
func NewKey() (Key, error) {
	b := make([]byte, 34)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	name := fmt.Sprintf("key-%s-%x", time.Now().UTC().Format("20060102T150405"), b[32:])
	return Key{Name: name, Secret: base64.StdEncoding.EncodeToString(b[:32])}, nil
}

// Parse reads and validates a configuration.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("encryption config: %w", err)
	}
	if _, err := c.Transformers(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Marshal is the configuration's YAML form.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// Load reads the configuration at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Save writes the configuration to path (0600) atomically.
func (c *Config) Save(path string) error {
	data, err := c.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

func (c *Config) clone() *Config {
	data, _ := yaml.Marshal(c)
	var out Config
	_ = yaml.Unmarshal(data, &out)
	return &out
}

// KeyNames lists the aesgcm key names in order, for reports.
func (c *Config) KeyNames() []string {
	var out []string
	for _, r := range c.Resources {
		for _, p := range r.Providers {
			if p.AESGCM != nil {
				for _, k := range p.AESGCM.Keys {
					if !slices.Contains(out, k.Name) {
						out = append(out, k.Name)
					}
				}
			}
		}
	}
	return out
}

// AddReadKey is rotation's first step: k becomes readable (last aesgcm key;
// an aesgcm provider is added after the others where there was none) and
// DefaultResources are covered; writes are unchanged.
func (c *Config) AddReadKey(k Key) *Config {
	out := c.clone()
	covered := map[string]bool{}
	for i := range out.Resources {
		r := &out.Resources[i]
		for _, name := range r.Resources {
			covered[name] = true
		}
		added := false
		for _, p := range r.Providers {
			if p.AESGCM != nil {
				p.AESGCM.Keys = append(p.AESGCM.Keys, k)
				added = true
				break
			}
		}
		if !added {
			r.Providers = append(r.Providers, ProviderConfig{AESGCM: &KeysConfig{Keys: []Key{k}}})
		}
	}
	var missing []string
	for _, name := range DefaultResources {
		if !covered[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		// Values of newly covered resources are plaintext until rewritten:
		// identity writes until Promote, and reads them meanwhile.
		out.Resources = append(out.Resources, ResourceConfig{Resources: missing, Providers: []ProviderConfig{
			{Identity: &struct{}{}}, {AESGCM: &KeysConfig{Keys: []Key{k}}},
		}})
	}
	if out.APIVersion == "" {
		out.APIVersion, out.Kind = apiVersion, kind
	}
	return out
}

// Promote is rotation's second step: an aesgcm provider holding the key
// named name moves first, with that key first, so every write uses it.
func (c *Config) Promote(name string) *Config {
	out := c.clone()
	for i := range out.Resources {
		r := &out.Resources[i]
		for j, p := range r.Providers {
			if p.AESGCM == nil {
				continue
			}
			idx := slices.IndexFunc(p.AESGCM.Keys, func(k Key) bool { return k.Name == name })
			if idx < 0 {
				continue
			}
			k := p.AESGCM.Keys[idx]
			p.AESGCM.Keys = append([]Key{k}, slices.Delete(p.AESGCM.Keys, idx, idx+1)...)
			r.Providers = append([]ProviderConfig{p}, slices.Delete(r.Providers, j, j+1)...)
			break
		}
	}
	return out
}

// DropOthers is rotation's last step, once every value is rewritten: the
// key named name is the only aesgcm key; identity stays as the read
// fallback.
func (c *Config) DropOthers(name string) *Config {
	out := c.clone()
	for i := range out.Resources {
		r := &out.Resources[i]
		var ps []ProviderConfig
		for _, p := range r.Providers {
			if p.AESGCM != nil {
				p.AESGCM.Keys = slices.DeleteFunc(p.AESGCM.Keys, func(k Key) bool { return k.Name != name })
				if len(p.AESGCM.Keys) == 0 {
					continue
				}
			}
			ps = append(ps, p)
		}
		if !slices.ContainsFunc(ps, func(p ProviderConfig) bool { return p.Identity != nil }) {
			ps = append(ps, ProviderConfig{Identity: &struct{}{}})
		}
		r.Providers = ps
	}
	return out
}

// Transformers builds the per-resource transformers of the configuration.
func (c *Config) Transformers() (*Transformers, error) {
	if c.APIVersion != apiVersion || c.Kind != kind {
		return nil, fmt.Errorf("encryption config: want apiVersion %s kind %s, got %q %q", apiVersion, kind, c.APIVersion, c.Kind)
	}
	t := &Transformers{byResource: map[string]value.Transformer{}}
	for i, r := range c.Resources {
		if len(r.Resources) == 0 || len(r.Providers) == 0 {
			return nil, fmt.Errorf("encryption config: resources[%d] needs resources and providers", i)
		}
		var pts []value.PrefixTransformer
		for j, p := range r.Providers {
			switch {
			case p.AESGCM != nil && p.Identity != nil:
				return nil, fmt.Errorf("encryption config: resources[%d].providers[%d] has more than one provider", i, j)
			case p.AESGCM != nil:
				if len(p.AESGCM.Keys) == 0 {
					return nil, fmt.Errorf("encryption config: resources[%d].providers[%d].aesgcm has no keys", i, j)
				}
				for _, k := range p.AESGCM.Keys {
					pt, err := aesGCM(k)
					if err != nil {
						return nil, fmt.Errorf("encryption config: resources[%d].providers[%d]: %w", i, j, err)
					}
					pts = append(pts, pt)
				}
			case p.Identity != nil:
				pts = append(pts, value.PrefixTransformer{Transformer: identity.NewEncryptCheckTransformer()})
			default:
				return nil, fmt.Errorf("encryption config: resources[%d].providers[%d]: only aesgcm and identity are supported", i, j)
			}
		}
		tr := value.NewPrefixTransformers(errors.New("encrypt: no provider of the encryption config can read this value (a key missing from encryption-config.yaml?)"), pts...)
		for _, name := range r.Resources {
			if _, dup := t.byResource[name]; dup {
				return nil, fmt.Errorf("encryption config: resource %q listed twice", name)
			}
			t.byResource[name] = tr
			t.resources = append(t.resources, name)
		}
	}
	return t, nil
}

func aesGCM(k Key) (value.PrefixTransformer, error) {
	if k.Name == "" {
		return value.PrefixTransformer{}, errors.New("aesgcm key without a name")
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return value.PrefixTransformer{}, fmt.Errorf("aesgcm key %q: secret is not base64: %w", k.Name, err)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return value.PrefixTransformer{}, fmt.Errorf("aesgcm key %q: %w (need 16, 24 or 32 bytes)", k.Name, err)
	}
	t, err := aestransformer.NewGCMTransformer(block)
	if err != nil {
		return value.PrefixTransformer{}, err
	}
	return value.PrefixTransformer{Prefix: []byte(aesPrefix + k.Name + ":"), Transformer: t}, nil
}

// Transformers encrypt and decrypt values by store resource. The zero
// value (and nil) transforms nothing.
type Transformers struct {
	byResource map[string]value.Transformer
	resources  []string
}

// Resources lists the resources that have providers.
func (t *Transformers) Resources() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.resources)
}

// Covers reports whether resource has providers.
func (t *Transformers) Covers(resource string) bool {
	if t == nil {
		return false
	}
	_, ok := t.byResource[resource]
	return ok
}

// ToStorage encrypts plain, stored under key (its authenticated data), with
// the first provider of resource; other resources pass through.
func (t *Transformers) ToStorage(resource string, key, plain []byte) ([]byte, error) {
	if t == nil {
		return plain, nil
	}
	tr, ok := t.byResource[resource]
	if !ok {
		return plain, nil
	}
	return tr.TransformToStorage(context.Background(), plain, value.DefaultContext(key))
}

// FromStorage decrypts a stored value; stale says it was not written by
// the first provider (a rotation rewrites it).
func (t *Transformers) FromStorage(resource string, key, stored []byte) (plain []byte, stale bool, err error) {
	if t == nil {
		return stored, false, nil
	}
	tr, ok := t.byResource[resource]
	if !ok {
		return stored, false, nil
	}
	return tr.TransformFromStorage(context.Background(), stored, value.DefaultContext(key))
}
