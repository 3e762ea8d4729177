package objfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// MaxFileBytes bounds one file: these are manifests, not data dumps.
const MaxFileBytes = 256 << 20

// Objects are the objects read from a path.
type Objects struct {
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	Pods           []corev1.Pod
	// Skipped counts documents of other kinds.
	Skipped int
}

// Load reads every object under path (a file or a directory).
func Load(path string) (Objects, error) {
	files, err := Files(path)
	if err != nil {
		return Objects{}, err
	}
	var out Objects
	for _, f := range files {
		data, err := readFile(f)
		if err != nil {
			return Objects{}, err
		}
		if err := Parse(data, &out); err != nil {
			return Objects{}, fmt.Errorf("%s: %w", f, err)
		}
	}
	return out, nil
}

// Files lists the manifest files of path: path itself, or the *.yaml,
// *.yml and *.json files of a directory, sorted.
func Files(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("objfile: %w (give a YAML file or a directory of them)", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("objfile: %w", err)
	}
	var out []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				out = append(out, filepath.Join(path, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("objfile: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("objfile: read %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("objfile: %s is larger than %d bytes: split it", path, MaxFileBytes)
	}
	return data, nil
}

// Parse adds the objects of a multi-document YAML (or JSON) stream to out.
func Parse(data []byte, out *Objects) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if err := parseDoc(raw, out); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

func parseDoc(raw []byte, out *Objects) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return err
	}
	switch {
	case tm.Kind == "Service" && tm.APIVersion == "v1":
		return decode(raw, &out.Services, func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta })
	case tm.Kind == "EndpointSlice" && tm.APIVersion == "discovery.k8s.io/v1":
		return decode(raw, &out.EndpointSlices, func(o *discoveryv1.EndpointSlice) *metav1.ObjectMeta { return &o.ObjectMeta })
	case tm.Kind == "Pod" && tm.APIVersion == "v1":
		return decode(raw, &out.Pods, func(o *corev1.Pod) *metav1.ObjectMeta { return &o.ObjectMeta })
	case tm.Kind == "" || tm.APIVersion == "":
		return errors.New("every document needs apiVersion and kind")
	}
	out.Skipped++
	return nil
}

// decode unmarshals one object strictly (unknown fields are errors, so
// typos do not pass silently) and appends it to list.
func decode[T any](raw []byte, list *[]T, meta func(*T) *metav1.ObjectMeta) error {
	var o T
	if err := yaml.UnmarshalStrict(raw, &o); err != nil {
		return err
	}
	m := meta(&o)
	if m.Name == "" {
		return errors.New("metadata.name is missing")
	}
	if m.Namespace == "" {
		m.Namespace = metav1.NamespaceDefault
	}
	*list = append(*list, o)
	return nil
}
