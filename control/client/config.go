package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"
)

// Environment variables that choose or override the client configuration.
const (
	EnvServer     = "WEIR_SERVER"
	EnvToken      = "WEIR_TOKEN"
	EnvConfig     = "WEIR_CONFIG"
	EnvKubeconfig = "KUBECONFIG"
)

// Config is what a client needs to reach a weir API server. It is read from
// a kubeconfig (see ResolveConfig) or from weir's own older YAML file,
// ~/.weir/config, which holds the fields with a JSON name.
type Config struct {
	// Server is the API server's URL, e.g. https://127.0.0.1:6443. A bare
	// HOST:PORT means https.
	Server string `json:"server"`
	// Token is the bearer token (the server writes it into its data dir).
	Token string `json:"token,omitempty"`
	// CAFile, when set, is a PEM bundle used to verify an https server.
	CAFile string `json:"caFile,omitempty"`
	// CAData is a PEM bundle too (a kubeconfig's
	// certificate-authority-data); with CAFile, both are trusted.
	CAData []byte `json:"-"`
	// CertData and KeyData are a client certificate and its key (PEM).
	CertData, KeyData []byte `json:"-"`
	// ServerName is the name verified in the server's certificate
	// (default: the server URL's host).
	ServerName string `json:"-"`
	// Source is the file the config was read from ("" for none).
	Source string `json:"-"`
	// Namespace is the default namespace ("default" when empty).
	Namespace string `json:"namespace,omitempty"`
	// Timeout bounds each request except watches and snapshot streams
	// (30s when zero). Not stored in the file.
	Timeout time.Duration `json:"-"`
}

// Overrides are what flags can override; empty fields override nothing.
type Overrides struct {
	ConfigPath     string // --config: a weir config file
	KubeconfigPath string // --kubeconfig: a kubeconfig
	Context        string // --context: the kubeconfig context (default its current-context)
	Server         string
	Token          string
	CAFile         string // --certificate-authority: replaces the source's CA
	Namespace      string
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
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, with mode 0600, creating the parent directory (0700) when
// needed.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ResolveConfig builds the effective config. The first source that
// applies is read:
//
//  1. --kubeconfig FILE (o.KubeconfigPath) or --config FILE (o.ConfigPath,
//     a weir config file); giving both is an error;
//  2. $WEIR_CONFIG, a weir config file;
//  3. $KUBECONFIG, kubeconfig files (a list, merged as kubectl merges it);
//  4. ~/.kube/weir.config, the kubeconfig `weir up` writes, if present;
//  5. ~/.weir/config, weir's older config file, if present;
//  6. ~/.kube/config, if present.
//
// Then WEIR_SERVER and WEIR_TOKEN, then the flags in o, override server,
// token, CA and namespace. getenv is os.Getenv outside tests.
func ResolveConfig(o Overrides, getenv func(string) string) (Config, error) {
	cfg, err := loadSource(o, getenv)
	if err != nil {
		return Config{}, err
	}
	override(&cfg.Server, getenv(EnvServer), o.Server)
	override(&cfg.Token, getenv(EnvToken), o.Token)
	override(&cfg.Namespace, o.Namespace)
	if o.CAFile != "" {
		cfg.CAFile, cfg.CAData = o.CAFile, nil
	}
	if cfg.Server == "" {
		return Config{}, fmt.Errorf("no weir server configured: run `sudo make up` (it writes a kubeconfig and prints "+
			"the `export %s=...` line), or `weir kubeconfig > FILE` and pass --kubeconfig FILE, or pass --server HOST:PORT", EnvKubeconfig)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	return cfg, nil
}

// loadSource reads the first configuration source that applies (see
// ResolveConfig); none at all is an empty Config.
func loadSource(o Overrides, getenv func(string) string) (Config, error) {
	switch {
	case o.KubeconfigPath != "" && o.ConfigPath != "":
		return Config{}, errors.New("--kubeconfig and --config both given: pass one")
	case o.KubeconfigPath != "":
		return LoadKubeconfig([]string{o.KubeconfigPath}, o.Context)
	case o.ConfigPath != "":
		return loadWeirConfig(o.ConfigPath)
	case getenv(EnvConfig) != "":
		return loadWeirConfig(getenv(EnvConfig))
	case getenv(EnvKubeconfig) != "":
		return LoadKubeconfig(filepath.SplitList(getenv(EnvKubeconfig)), o.Context)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return Config{}, nil // no defaults to look at; flags and env may still do
	}
	for _, def := range []struct {
		path string
		kube bool
	}{
		{filepath.Join(home, ".kube", "weir.config"), true},
		{filepath.Join(home, ".weir", "config"), false},
		{filepath.Join(home, ".kube", "config"), true},
	} {
		if _, err := os.Stat(def.path); err != nil {
			continue
		}
		if def.kube {
			return LoadKubeconfig([]string{def.path}, o.Context)
		}
		return loadWeirConfig(def.path)
	}
	return Config{}, nil
}

func loadWeirConfig(path string) (Config, error) {
	cfg, err := LoadConfig(path)
	cfg.Source = path
	return cfg, err
}

// override sets *dst to the last non-empty value.
func override(dst *string, values ...string) {
	for _, v := range values {
		if v != "" {
			*dst = v
		}
	}
}
