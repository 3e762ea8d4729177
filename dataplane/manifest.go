package dataplane

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
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// ReadObjects reads Services and EndpointSlices from a YAML or JSON file,
// or from every *.yaml, *.yml and *.json file of a directory (sorted). A
// file may hold several documents separated by "---", and List objects;
// other kinds are ignored.
func ReadObjects(path string) ([]corev1.Service, []discoveryv1.EndpointSlice, error) {
	files, err := manifestFiles(path)
	if err != nil {
		return nil, nil, err
	}
	var svcs []corev1.Service
	var eps []discoveryv1.EndpointSlice
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("dataplane: read %s: %w", f, err)
		}
		s, e, err := ParseObjects(data)
		if err != nil {
			return nil, nil, fmt.Errorf("dataplane: %s: %w", f, err)
		}
		svcs, eps = append(svcs, s...), append(eps, e...)
	}
	return svcs, eps, nil
}

func manifestFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dataplane: services file: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("dataplane: services directory: %w", err)
	}
	var out []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

type typeMeta struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Items      []rawJSON `json:"items"`
}

// rawJSON keeps a List item as raw JSON.
type rawJSON []byte

func (m *rawJSON) UnmarshalJSON(b []byte) error {
	*m = append((*m)[:0], b...)
	return nil
}

// ParseObjects parses one YAML/JSON stream (documents separated by "---").
func ParseObjects(data []byte) ([]corev1.Service, []discoveryv1.EndpointSlice, error) {
	var svcs []corev1.Service
	var eps []discoveryv1.EndpointSlice
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return svcs, eps, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", n, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", n, err)
		}
		if len(bytes.TrimSpace(js)) == 0 || string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		if err := decodeObject(js, 0, &svcs, &eps); err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", n, err)
		}
	}
}

func decodeObject(js []byte, depth int, svcs *[]corev1.Service, eps *[]discoveryv1.EndpointSlice) error {
	var tm typeMeta
	if err := yaml.Unmarshal(js, &tm); err != nil {
		return fmt.Errorf("not a Kubernetes object: %w", err)
	}
	switch {
	case tm.Kind == "Service" && tm.APIVersion == "v1":
		var s corev1.Service
		if err := yaml.UnmarshalStrict(js, &s); err != nil {
			return fmt.Errorf("Service: %w", err)
		}
		*svcs = append(*svcs, s)
	case tm.Kind == "EndpointSlice" && tm.APIVersion == "discovery.k8s.io/v1":
		var e discoveryv1.EndpointSlice
		if err := yaml.UnmarshalStrict(js, &e); err != nil {
			return fmt.Errorf("EndpointSlice: %w", err)
		}
		*eps = append(*eps, e)
	case strings.HasSuffix(tm.Kind, "List") && depth == 0:
		for i, item := range tm.Items {
			if err := decodeObject(item, 1, svcs, eps); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	case tm.Kind == "":
		return errors.New("object without kind: set kind and apiVersion (Service v1, EndpointSlice discovery.k8s.io/v1)")
	}
	return nil
}
