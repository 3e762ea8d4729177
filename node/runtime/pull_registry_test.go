package runtime

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// testRegistry is a read-only OCI distribution registry (the pull side:
// /v2/, manifests by tag or digest, blobs; GET and HEAD) over the blobs
// of an OCI image archive, serving plain HTTP on loopback.
type testRegistry struct {
	mu        sync.Mutex
	blobs     map[digest.Digest][]byte
	types     map[digest.Digest]string      // media types of manifests
	tags      map[string]ocispec.Descriptor // "repo:tag"
	requests  map[string]int                // "METHOD path" served
	base      ocispec.Descriptor            // the archive's manifest
	slowBlobs time.Duration                 // delay before each blob GET
	abandoned int                           // delayed GETs the client gave up
	auth      string                        // "user:password" every request must carry (basic auth); "" = none
	srv       *http.Server
}

// newTestRegistry loads the archive's blobs; serve starts it.
func newTestRegistry(t *testing.T, archive string) *testRegistry {
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := &testRegistry{blobs: map[digest.Digest][]byte{}, types: map[digest.Digest]string{}, tags: map[string]ocispec.Descriptor{}, requests: map[string]int{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch name := h.Name; {
		case name == "index.json":
			var idx ocispec.Index
			if err := json.Unmarshal(b, &idx); err != nil || len(idx.Manifests) != 1 {
				t.Fatalf("index.json of %s: %v (%d manifests)", archive, err, len(idx.Manifests))
			}
			m := idx.Manifests[0]
			g.base = ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
		case strings.HasPrefix(name, "blobs/sha256/") && h.Typeflag == tar.TypeReg:
			g.blobs[digest.NewDigestFromEncoded(digest.SHA256, strings.TrimPrefix(name, "blobs/sha256/"))] = b
		}
	}
	if g.base.Digest == "" || g.blobs[g.base.Digest] == nil {
		t.Fatalf("%s has no manifest", archive)
	}
	g.types[g.base.Digest] = g.base.MediaType
	return g
}

// add stores a blob and returns its descriptor.
func (g *testRegistry) add(mediaType string, b []byte) ocispec.Descriptor {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := digest.FromBytes(b)
	g.blobs[d] = b
	if mediaType == ocispec.MediaTypeImageManifest {
		g.types[d] = mediaType
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// variant is the base image with env added to its config: same layer, a
// new config and manifest digest.
func (g *testRegistry) variant(t *testing.T, env string) ocispec.Descriptor {
	var m ocispec.Manifest
	var cfg ocispec.Image
	if err := json.Unmarshal(g.blobs[g.base.Digest], &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g.blobs[m.Config.Digest], &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Config.Env = append(cfg.Config.Env, env)
	cb, _ := json.Marshal(cfg)
	m.Config = g.add(m.Config.MediaType, cb)
	mb, _ := json.Marshal(m)
	return g.add(ocispec.MediaTypeImageManifest, mb)
}

// tag points repo:tag at a manifest.
func (g *testRegistry) tag(repo, tag string, d ocispec.Descriptor) {
	g.mu.Lock()
	g.tags[repo+":"+tag] = d
	g.mu.Unlock()
}

// count is how many requests of method for path were served.
func (g *testRegistry) count(method, path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests[method+" "+path]
}

// serve listens on addr (HOST:PORT; port 0 for any) until the test ends
// and returns the address.
func (g *testRegistry) serve(t *testing.T, addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("registry listen %s: %v", addr, err)
	}
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); g.srv.Serve(ln) }()
	t.Cleanup(func() { g.srv.Close(); <-done })
	return ln.Addr().String()
}

func (g *testRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	g.mu.Lock()
	g.requests[req.Method+" "+p]++
	slow, auth := g.slowBlobs, g.auth
	g.mu.Unlock()
	if u, p, ok := req.BasicAuth(); auth != "" && (!ok || u+":"+p != auth) {
		w.Header().Set("WWW-Authenticate", `Basic realm="weir-test"`)
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		registryError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only")
		return
	}
	if p == "/v2/" || p == "/v2" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if i := strings.LastIndex(p, "/manifests/"); i > 3 && strings.HasPrefix(p, "/v2/") {
		g.manifest(w, req, p[4:i], p[i+len("/manifests/"):])
		return
	}
	if i := strings.LastIndex(p, "/blobs/"); i > 3 && strings.HasPrefix(p, "/v2/") {
		if req.Method == http.MethodGet && slow > 0 {
			select {
			case <-time.After(slow):
			case <-req.Context().Done():
				g.mu.Lock()
				g.abandoned++
				g.mu.Unlock()
				return
			}
		}
		g.blob(w, req, digest.Digest(p[i+len("/blobs/"):]), "application/octet-stream", "BLOB_UNKNOWN")
		return
	}
	registryError(w, http.StatusNotFound, "NAME_UNKNOWN", "no such repository")
}

func (g *testRegistry) manifest(w http.ResponseWriter, req *http.Request, repo, ref string) {
	d := digest.Digest(ref)
	if d.Validate() != nil {
		g.mu.Lock()
		desc, ok := g.tags[repo+":"+ref]
		g.mu.Unlock()
		if !ok {
			registryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
			return
		}
		d = desc.Digest
	}
	g.mu.Lock()
	mt, ok := g.types[d]
	g.mu.Unlock()
	if !ok {
		registryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
		return
	}
	g.blob(w, req, d, mt, "MANIFEST_UNKNOWN")
}

func (g *testRegistry) blob(w http.ResponseWriter, req *http.Request, d digest.Digest, mediaType, unknown string) {
	g.mu.Lock()
	b, ok := g.blobs[d]
	g.mu.Unlock()
	if !ok {
		registryError(w, http.StatusNotFound, unknown, "unknown "+string(d))
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		w.Write(b)
	}
}

func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
