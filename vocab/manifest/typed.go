package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Typed holds the objects of the kinds the node side reads from files
// (the dataplane, standalone DNS and static pods): Services,
// EndpointSlices and Pods, decoded strictly into their k8s.io/api types.
type Typed struct {
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	Pods           []corev1.Pod
	// Skipped counts objects of other kinds.
	Skipped int
}

// LoadTyped reads every object under path (a file or a directory, see
// Files). Errors name the file and the document.
func LoadTyped(path string) (Typed, error) {
	files, err := Files(path)
	if err != nil {
		return Typed{}, err
	}
	var out Typed
	for _, f := range files {
		data, err := ReadFile(f)
		if err != nil {
			return Typed{}, err
		}
		if err := ParseTyped(data, &out); err != nil {
			return Typed{}, fmt.Errorf("%s: %w", f, err)
		}
	}
	return out, nil
}

// ParseTyped adds the objects of one YAML or JSON stream (documents
// separated by "---"; List documents are expanded) to out. Unknown fields
// are errors, so typos do not pass silently; every object needs a name and
// gets namespace "default" when it has none.
func ParseTyped(data []byte, out *Typed) error {
	if len(data) > MaxManifestBytes {
		return fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxManifestBytes)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if err := parseTypedDoc(raw, 0, out); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

type typeAndItems struct {
	metav1.TypeMeta `json:",inline"`
	Items           []json.RawMessage `json:"items"`
}

func parseTypedDoc(raw []byte, depth int, out *Typed) error {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
		return nil
	}
	var tm typeAndItems
	if err := json.Unmarshal(js, &tm); err != nil {
		return fmt.Errorf("not a Kubernetes object: %w", err)
	}
	switch {
	case tm.Kind == "Service" && tm.APIVersion == "v1":
		return decodeTyped(js, &out.Services, func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta })
	case tm.Kind == "EndpointSlice" && tm.APIVersion == "discovery.k8s.io/v1":
		return decodeTyped(js, &out.EndpointSlices, func(o *discoveryv1.EndpointSlice) *metav1.ObjectMeta { return &o.ObjectMeta })
	case tm.Kind == "Pod" && tm.APIVersion == "v1":
		return decodeTyped(js, &out.Pods, func(o *corev1.Pod) *metav1.ObjectMeta { return &o.ObjectMeta })
	case strings.HasSuffix(tm.Kind, "List") && depth == 0:
		for i, item := range tm.Items {
			if err := parseTypedDoc(item, 1, out); err != nil {
				return fmt.Errorf("list item %d: %w", i+1, err)
			}
		}
		return nil
	case tm.Kind == "" || tm.APIVersion == "":
		return errors.New("every object needs apiVersion and kind (Service v1, EndpointSlice discovery.k8s.io/v1, Pod v1)")
	}
	out.Skipped++
	return nil
}

// decodeTyped unmarshals one object strictly and appends it to list.
func decodeTyped[T any](js []byte, list *[]T, meta func(*T) *metav1.ObjectMeta) error {
	var o T
	if err := yaml.UnmarshalStrict(js, &o); err != nil {
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
