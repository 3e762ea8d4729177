package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/weirnet/weir/control/member"
	"github.com/weirnet/weir/localcluster"
)

// groupList is a repeatable --group flag.
type groupList []string

func (g *groupList) String() string     { return strings.Join(*g, ",") }
func (g *groupList) Set(v string) error { *g = append(*g, v); return nil }

// userKubeconfig is `weir kubeconfig --user NAME [--group G]...`: the
// admin kubeconfig of the cluster in dataDir with its token replaced by a
// client certificate for NAME in groups, signed by the cluster CA in the
// control member's data dir (like kubeadm's `kubeconfig user`, run on a
// control-plane node as root). What NAME may do is what RBAC grants it.
func userKubeconfig(dataDir, server, tokenFile, name string, groups []string, ttl time.Duration) ([]byte, error) {
	memberDir := dataDir
	if _, err := os.Stat(filepath.Join(dataDir, "ca.key")); err != nil {
		memberDir = filepath.Join(dataDir, "control") // weir up's first member
	}
	admin, err := localcluster.AdminKubeconfig(dataDir, server, tokenFile)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.Load(admin)
	if err != nil {
		return nil, err
	}
	cert, err := member.IssueUserCert(memberDir, name, groups, ttl)
	if err != nil {
		return nil, err
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	if cur == nil {
		return nil, fmt.Errorf("the admin kubeconfig has no current context")
	}
	authName := cur.AuthInfo
	ai := cfg.AuthInfos[authName]
	ai.Token, ai.TokenFile = "", ""
	ai.ClientCertificateData, ai.ClientKeyData = cert.CertPEM, cert.KeyPEM
	delete(cfg.AuthInfos, authName)
	delete(cfg.Contexts, cfg.CurrentContext)
	ctxName := name + "@" + cur.Cluster
	cur.AuthInfo = name
	cfg.AuthInfos[name] = ai
	cfg.Contexts[ctxName] = cur
	cfg.CurrentContext = ctxName
	return clientcmd.Write(*cfg)
}
