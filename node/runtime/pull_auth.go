package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/remotes/docker"
	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
)

// Image pull secrets: the pod's imagePullSecrets (kubernetes.io/
// dockerconfigjson or kubernetes.io/dockercfg Secrets, read through
// Config.Objects) make a keyring as the kubelet's credential keyring does:
// each registry key ("registry.example:5000", "https://index.docker.io/v1/",
// "*.example.com/team") is normalized (scheme and a /v1/ or /v2/ path
// prefix dropped) and matches an image when its host has as many dot-
// separated parts, each matching as a glob, the same port, and its path
// is a prefix of the image's repository path. The matching credentials
// are tried in turn (keys in reverse lexical order, the most specific
// first); the first pull that works wins. With none matching, Docker Hub
// images use the credentials of index.docker.io, others are pulled
// anonymously. A Secret that cannot be read is skipped with a
// FailedToRetrieveImagePullSecret event, as the kubelet does.

// EventFailedToRetrieveImagePullSecret is the kubelet's event when an
// image pull secret cannot be read.
const EventFailedToRetrieveImagePullSecret = "FailedToRetrieveImagePullSecret"

// pullCred is one registry credential.
type pullCred struct{ username, password string }

// keyEntry is one registry key of a pull secret and its credential.
type keyEntry struct {
	key  string // normalized: host[:port][/path]
	cred pullCred
}

// dockerConfigEntry is one entry of a .dockerconfigjson's auths or a
// .dockercfg: auth (base64 "user:password") wins over username and
// password, as the kubelet reads it.
type dockerConfigEntry struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// pullSecrets reads the pod's image pull secrets; those that cannot be
// read are reported with an event and skipped.
func (w *podWorker) pullSecrets(ctx context.Context) []*corev1.Secret {
	refs := w.pod.Spec.ImagePullSecrets
	if len(refs) == 0 {
		return nil
	}
	var out []*corev1.Secret
	var failed []string
	for _, ref := range refs {
		if w.r.cfg.Objects == nil {
			failed = append(failed, fmt.Sprintf("%s/%s", w.pod.Namespace, ref.Name))
			continue
		}
		s, err := w.r.cfg.Objects.Secret(ctx, w.pod.Namespace, ref.Name)
		if err != nil {
			w.r.cfg.Logger.Info("unable to retrieve pull secret, the image pull may not succeed", "pod", w.pod.Namespace+"/"+w.pod.Name, "secret", ref.Name, "error", err)
			failed = append(failed, fmt.Sprintf("%s/%s", w.pod.Namespace, ref.Name))
			continue
		}
		out = append(out, s)
	}
	if len(failed) > 0 {
		w.warning(EventFailedToRetrieveImagePullSecret, "", "Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(failed, ", "))
	}
	return out
}

// keyring is the registry keys of secrets, in lookup order.
func keyring(secrets []*corev1.Secret) ([]keyEntry, error) {
	var out []keyEntry
	for _, s := range secrets {
		var entries map[string]dockerConfigEntry
		switch b := s.Data[corev1.DockerConfigJsonKey]; {
		case s.Type == corev1.SecretTypeDockerConfigJson && len(b) > 0:
			var cfg struct {
				Auths map[string]dockerConfigEntry `json:"auths"`
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				return nil, fmt.Errorf("image pull secret %s: %s: %w", s.Name, corev1.DockerConfigJsonKey, err)
			}
			entries = cfg.Auths
		case s.Type == corev1.SecretTypeDockercfg && len(s.Data[corev1.DockerConfigKey]) > 0:
			if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &entries); err != nil {
				return nil, fmt.Errorf("image pull secret %s: %s: %w", s.Name, corev1.DockerConfigKey, err)
			}
		}
		for loc, e := range entries {
			cred := pullCred{e.Username, e.Password}
			if e.Auth != "" {
				b, err := base64.StdEncoding.DecodeString(e.Auth)
				if err != nil {
					return nil, fmt.Errorf("image pull secret %s: auth of %s: %w", s.Name, loc, err)
				}
				u, p, ok := strings.Cut(string(b), ":")
				if !ok {
					return nil, fmt.Errorf("image pull secret %s: auth of %s: not user:password", s.Name, loc)
				}
				cred = pullCred{u, p}
			}
			if key, ok := registryKey(loc); ok {
				out = append(out, keyEntry{key, cred})
			}
		}
	}
	// reverse lexical order, stable: the kubelet's "most specific first"
	slices.SortStableFunc(out, func(a, b keyEntry) int { return strings.Compare(b.key, a.key) })
	return out, nil
}

// registryKey normalizes a registry key: no scheme, no /v1/ or /v2/
// prefix in the path.
func registryKey(loc string) (string, bool) {
	v := loc
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host, true
	}
	return u.Host + p, true
}

// lookupCreds are the credentials of keys for the repository repo
// ("registry.example:5000/team/app", "docker.io/library/busybox").
func lookupCreds(keys []keyEntry, repo string) []pullCred {
	var out []pullCred
	for _, k := range keys {
		if registryMatch(k.key, repo) {
			out = append(out, k.cred)
		}
	}
	if len(out) > 0 {
		return out
	}
	if host, _, _ := strings.Cut(repo, "/"); host == "docker.io" || host == "index.docker.io" {
		for _, k := range keys {
			if k.key == "index.docker.io" {
				out = append(out, k.cred)
			}
		}
	}
	return out
}

// registryMatch: the glob key matches the repository (the kubelet's
// URLsMatch).
func registryMatch(key, repo string) bool {
	g, err1 := url.Parse("https://" + key)
	t, err2 := url.Parse("https://" + repo)
	if err1 != nil || err2 != nil {
		return false
	}
	split := func(u *url.URL) ([]string, string) {
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			host, port = u.Host, ""
		}
		return strings.Split(host, "."), port
	}
	gParts, gPort := split(g)
	tParts, tPort := split(t)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i := range gParts {
		if ok, _ := filepath.Match(gParts[i], tParts[i]); !ok {
			return false
		}
	}
	return true
}

// credsFor are the credentials to try for the image named (none:
// anonymous).
func credsFor(secrets []*corev1.Secret, named reference.Named) ([]pullCred, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	keys, err := keyring(secrets)
	if err != nil {
		return nil, err
	}
	return lookupCreds(keys, named.Name()), nil
}

// credsKey tells pulls with different credentials apart (shared pulls).
func credsKey(creds []pullCred) string {
	if len(creds) == 0 {
		return ""
	}
	h := sha256.New()
	for _, c := range creds {
		fmt.Fprintf(h, "%q:%q\n", c.username, c.password)
	}
	return "\x00" + hex.EncodeToString(h.Sum(nil))
}

// authorizer answers the registry of ref (and Docker Hub's API host for
// docker.io) with cred.
func authorizer(ref string, cred pullCred) docker.Authorizer {
	host := ""
	if named, err := reference.ParseNormalizedNamed(ref); err == nil {
		host = reference.Domain(named)
	}
	return docker.NewDockerAuthorizer(docker.WithAuthCreds(func(h string) (string, string, error) {
		if h == host || host == "docker.io" && h == "registry-1.docker.io" {
			return cred.username, cred.password, nil
		}
		return "", "", nil
	}))
}
