package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/vocab/manifest"
)

// manifestDir reads a static pod directory poll after poll: its *.yaml,
// *.yml and *.json files (manifest.Files; names starting with "." are
// skipped), each holding one or more Pods. A new or changed file is used
// once it has settled (the same size and modification time at two polls
// in a row; at the first read, at once), so that a file caught
// half-written is never run. A file that turns invalid keeps its last
// good pods, and its error is reported, until it is fixed or removed; a
// removed file's pods go at once.
type manifestDir struct {
	dir, node string
	files     map[string]*manifestFile // path
	read      bool                     // the first read happened
}

// manifestFile is what the agent holds of one manifest file.
type manifestFile struct {
	stamp  string       // size and modification time
	parsed bool         // the content of stamp was parsed
	pods   []corev1.Pod // the last good pods
	err    error        // the current content's error
}

func newManifestDir(dir, node string) *manifestDir {
	return &manifestDir{dir: dir, node: node, files: map[string]*manifestFile{}}
}

// poll rereads the directory: the static pods (sorted by namespace/name)
// and one error per invalid file. err is set only when the directory
// cannot be listed; a missing directory holds no pods.
func (d *manifestDir) poll() (pods []corev1.Pod, errs []error, err error) {
	paths, err := d.list()
	if err != nil {
		return nil, nil, err
	}
	first := !d.read
	d.read = true
	next := make(map[string]*manifestFile, len(paths))
	for _, path := range paths {
		next[path] = d.update(path, first)
	}
	d.files = next
	seen := map[string]string{} // namespace/name -> file
	for _, path := range paths {
		f := next[path]
		if f.err != nil {
			errs = append(errs, f.err)
		}
		for _, p := range f.pods {
			key := p.Namespace + "/" + p.Name
			if other, dup := seen[key]; dup {
				errs = append(errs, fmt.Errorf("static pod manifest %s: pod %s is already defined in %s; rename one of them", path, key, other))
				continue
			}
			seen[key] = path
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Namespace+"/"+pods[i].Name < pods[j].Namespace+"/"+pods[j].Name })
	return pods, errs, nil
}

func (d *manifestDir) list() ([]string, error) {
	if _, err := os.Stat(d.dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	paths, err := manifest.Files(d.dir)
	if err != nil {
		return nil, fmt.Errorf("static pod manifest dir %s: %w", d.dir, err)
	}
	out := paths[:0]
	for _, p := range paths {
		if !strings.HasPrefix(filepath.Base(p), ".") {
			out = append(out, p)
		}
	}
	return out, nil
}

// update brings one file's entry up to date.
func (d *manifestDir) update(path string, first bool) *manifestFile {
	f := d.files[path]
	if f == nil {
		f = &manifestFile{}
	}
	st, err := os.Stat(path)
	if err != nil {
		f.err = fmt.Errorf("static pod manifest %s: %w", path, err)
		return f
	}
	stamp := fmt.Sprintf("%d|%d", st.Size(), st.ModTime().UnixNano())
	switch {
	case stamp == f.stamp && f.parsed:
	case stamp == f.stamp || first:
		f.stamp, f.parsed = stamp, true
		f.parse(path, d.node)
	default: // changed since the last poll: used once it has settled
		f.stamp, f.parsed = stamp, false
	}
	return f
}

func (f *manifestFile) parse(path, node string) {
	data, err := manifest.ReadFile(path)
	if err == nil {
		var pods []corev1.Pod
		if pods, err = decodeStaticPods(data, node); err == nil {
			f.pods, f.err = pods, nil
			return
		}
	}
	if len(f.pods) > 0 {
		f.err = fmt.Errorf("static pod manifest %s: %w (its last good pods keep running)", path, err)
		return
	}
	f.err = fmt.Errorf("static pod manifest %s: %w", path, err)
}
