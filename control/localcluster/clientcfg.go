package localcluster

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
)

var gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// writeClientConfigs writes ~/.weir/config for root and, under sudo, for
// the invoking user (owned by them).
func writeClientConfigs(c client.Config) ([]string, error) {
	var paths []string
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
	for home, owner := range homes {
		p := filepath.Join(home, ".weir", "config")
		if err := client.WriteConfig(p, c); err != nil {
			return nil, err
		}
		if owner[0] >= 0 {
			_ = os.Chown(filepath.Dir(p), owner[0], owner[1])
			_ = os.Chown(p, owner[0], owner[1])
		}
		paths = append(paths, p)
	}
	return paths, nil
}
