package client

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// LoadKubeconfig reads kubeconfig files with client-go's clientcmd, as
// kubectl does: several paths are merged (the first file to set a value
// wins), context "" is the current-context. The server, the bearer token
// (token or tokenFile), the CA (certificate-authority or -data), a client
// certificate and the context's namespace are used; exec and
// auth-provider plugins are not supported.
func LoadKubeconfig(paths []string, context string) (Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths}
	if len(paths) == 1 {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: paths[0]}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	src := strings.Join(paths, string(os.PathListSeparator))
	rc, err := cc.ClientConfig()
	if err != nil {
		return Config{}, fmt.Errorf("kubeconfig %s: %w", src, err)
	}
	if rc.ExecProvider != nil || rc.AuthProvider != nil {
		return Config{}, fmt.Errorf("kubeconfig %s: exec and auth-provider credentials are not supported by weir; use a token or a client certificate", src)
	}
	if rc.Insecure {
		return Config{}, fmt.Errorf("kubeconfig %s: insecure-skip-tls-verify is not supported by weir; give the cluster CA (certificate-authority-data)", src)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return Config{}, fmt.Errorf("kubeconfig %s: %w", src, err)
	}
	cfg := Config{Server: rc.Host, Token: rc.BearerToken, CAFile: rc.CAFile, CAData: rc.CAData,
		CertData: rc.CertData, KeyData: rc.KeyData, ServerName: rc.ServerName, Namespace: ns, Source: src}
	if cfg.Token == "" && rc.BearerTokenFile != "" {
		data, err := os.ReadFile(rc.BearerTokenFile)
		if err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: token file: %w", src, err)
		}
		cfg.Token = strings.TrimSpace(string(data))
	}
	if rc.CertFile != "" || rc.KeyFile != "" {
		if rc.CertFile == "" || rc.KeyFile == "" {
			return Config{}, errors.New("kubeconfig " + src + ": client-certificate and client-key go together")
		}
		if cfg.CertData, err = os.ReadFile(rc.CertFile); err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: %w", src, err)
		}
		if cfg.KeyData, err = os.ReadFile(rc.KeyFile); err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: %w", src, err)
		}
	}
	return cfg, nil
}

// Kubeconfig is a kubeconfig (YAML) with one cluster, user and context,
// all called name, and that context current: server with the CA
// certificate caPEM inline, and a bearer token.
func Kubeconfig(name, server string, caPEM []byte, token string) ([]byte, error) {
	if name == "" || server == "" || len(caPEM) == 0 || token == "" {
		return nil, errors.New("client: a kubeconfig needs a name, a server, the cluster CA and a token")
	}
	c := clientcmdapi.NewConfig()
	c.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	c.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	c.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	c.CurrentContext = name
	return clientcmd.Write(*c)
}
