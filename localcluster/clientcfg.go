package localcluster

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
)

var gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// kubeconfigName is the cluster, user and context name in the kubeconfigs
// weir up writes.
const kubeconfigName = "weir"

// AdminKubeconfig is an admin kubeconfig for the local cluster whose state
// is in dataDir: the API proxy's https address, the cluster CA and the
// cluster token. dataDir may also be a control member's own data dir
// (ca.crt and, unless tokenFile names it, the token in it); its server is
// then https://127.0.0.1:6443. A non-empty server replaces the address.
func AdminKubeconfig(dataDir, server, tokenFile string) ([]byte, error) {
	cfg := Config{DataDir: dataDir}
	listen, dir := "127.0.0.1:6443", cfg.controlDir()
	if s, err := loadState(cfg.stateFile()); err == nil {
		if s.Listen != "" {
			listen = s.Listen
		}
	} else if _, err := os.Stat(filepath.Join(dataDir, "ca.crt")); err == nil {
		dir = dataDir
	} else {
		return nil, fmt.Errorf("%s holds no weir cluster (no cluster.json or ca.crt): pass the --data-dir of `weir up` or of a control member", dataDir)
	}
	if server == "" {
		server = "https://" + listen
	}
	if tokenFile == "" {
		tokenFile = filepath.Join(dir, "token")
	}
	return kubeconfigFrom(dir, server, tokenFile)
}

// kubeconfigFrom builds the kubeconfig of server from a control member's
// data dir (ca.crt) and the cluster token's file.
func kubeconfigFrom(memberDir, server, tokenFile string) ([]byte, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read the cluster token: %w (run as root?)", err)
	}
	ca, err := os.ReadFile(filepath.Join(memberDir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the cluster CA: %w", err)
	}
	return client.Kubeconfig(kubeconfigName, server, ca, strings.TrimSpace(string(tok)))
}

// kubeconfigPath is the kubeconfig weir up keeps in its data dir.
func (c *Config) kubeconfigPath() string { return filepath.Join(c.DataDir, "kubeconfig") }

// writeKubeconfigs writes the cluster's admin kubeconfig into the data dir
// and, unless cfg.NoClientConfig, as ~/.kube/weir.config for root and,
// under sudo, for the invoking user (owned by them). An existing
// ~/.kube/config is never touched. It returns the paths written.
func writeKubeconfigs(cfg *Config) ([]string, error) {
	data, err := kubeconfigFrom(cfg.controlDir(), "https://"+cfg.Listen, filepath.Join(cfg.controlDir(), "token"))
	if err != nil {
		return nil, err
	}
	if err := client.WriteFileAtomic(cfg.kubeconfigPath(), data); err != nil {
		return nil, err
	}
	paths := []string{cfg.kubeconfigPath()}
	if cfg.NoClientConfig {
		return paths, nil
	}
	homes := map[string][2]int{}
	if home, err := os.UserHomeDir(); err == nil {
		homes[home] = [2]int{-1, -1}
	}
	if name := os.Getenv("SUDO_USER"); name != "" && name != "root" {
		if u, err := user.Lookup(name); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			homes[u.HomeDir] = [2]int{uid, gid}
		}
	}
	var errs []error
	for _, home := range slices.Sorted(maps.Keys(homes)) {
		owner := homes[home]
		p := filepath.Join(home, ".kube", "weir.config")
		dirExisted := exists(filepath.Dir(p))
		if err := client.WriteFileAtomic(p, data); err != nil {
			errs = append(errs, err)
			continue
		}
		if owner[0] >= 0 {
			if !dirExisted {
				_ = os.Chown(filepath.Dir(p), owner[0], owner[1])
			}
			_ = os.Chown(p, owner[0], owner[1])
		}
		paths = append(paths, p)
	}
	return paths, errors.Join(errs...)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
