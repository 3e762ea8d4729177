package client

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"
)

// Environment variables that override the config file.
const (
	EnvServer = "WEIR_SERVER"
	EnvToken  = "WEIR_TOKEN"
	EnvConfig = "WEIR_CONFIG"
)

// Config is what a client needs to reach a weir API server. It is stored as
// YAML in ~/.weir/config.
type Config struct {
	// Server is the API server's URL, e.g. http://127.0.0.1:7443. A bare
	// HOST:PORT means http.
	Server string `json:"server"`
	// Token is the bearer token (the server writes it into its data dir).
	Token string `json:"token,omitempty"`
	// CAFile, when set, is a PEM bundle used to verify an https server.
	CAFile string `json:"caFile,omitempty"`
	// Namespace is the default namespace ("default" when empty).
	Namespace string `json:"namespace,omitempty"`
	// Timeout bounds each request except watches and snapshot streams
	// (30s when zero). Not stored in the file.
	Timeout time.Duration `json:"-"`
}

// Overrides are what flags can override; empty fields override nothing.
type Overrides struct {
	ConfigPath string
	Server     string
	Token      string
	Namespace  string
}

// DefaultConfigPath is ~/.weir/config.
func DefaultConfigPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory for the weir config: %w; pass --config", err)
	}
	return filepath.Join(home, ".weir", "config"), nil
}

// LoadConfig reads a config file. A missing file is an error that wraps
// fs.ErrNotExist.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read weir config: %w", err)
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse weir config %s: %w", path, err)
	}
	return cfg, nil
}

// WriteConfig writes cfg to path atomically with mode 0600, creating the
// parent directory (0700) when needed.
func WriteConfig(path string, cfg Config) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode weir config: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write weir config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write weir config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write weir config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write weir config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write weir config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write weir config: %w", err)
	}
	return nil
}

// ResolveConfig builds the effective config: the file (o.ConfigPath, else
// $WEIR_CONFIG, else ~/.weir/config; a missing default file is fine), then
// WEIR_SERVER and WEIR_TOKEN, then the flags in o. getenv is os.Getenv
// outside tests.
func ResolveConfig(o Overrides, getenv func(string) string) (Config, error) {
	path, explicit := o.ConfigPath, o.ConfigPath != ""
	if path == "" {
		path, explicit = getenv(EnvConfig), getenv(EnvConfig) != ""
	}
	if path == "" {
		p, err := DefaultConfigPath()
		if err != nil {
			return Config{}, err
		}
		path = p
	}
	cfg, err := LoadConfig(path)
	if err != nil && (explicit || !errors.Is(err, fs.ErrNotExist)) {
		return Config{}, err
	}
	override(&cfg.Server, getenv(EnvServer), o.Server)
	override(&cfg.Token, getenv(EnvToken), o.Token)
	override(&cfg.Namespace, o.Namespace)
	if cfg.Server == "" {
		return Config{}, fmt.Errorf("no weir server configured: run `sudo make up` (it writes %s), "+
			"or pass --server HOST:PORT, or set %s", path, EnvServer)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	return cfg, nil
}

// override sets *dst to the last non-empty value.
func override(dst *string, values ...string) {
	for _, v := range values {
		if v != "" {
			*dst = v
		}
	}
}
