package dataplane

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/vocab/manifest"
)

// ReadObjects reads Services and EndpointSlices from a YAML or JSON file,
// or from every *.yaml, *.yml and *.json file of a directory (sorted). A
// file may hold several documents separated by "---", and List objects;
// other kinds are ignored.
func ReadObjects(path string) ([]corev1.Service, []discoveryv1.EndpointSlice, error) {
	objs, err := manifest.LoadTyped(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dataplane: %w", err)
	}
	return objs.Services, objs.EndpointSlices, nil
}

// ParseObjects parses one YAML/JSON stream (documents separated by "---").
func ParseObjects(data []byte) ([]corev1.Service, []discoveryv1.EndpointSlice, error) {
	var objs manifest.Typed
	if err := manifest.ParseTyped(data, &objs); err != nil {
		return nil, nil, err
	}
	return objs.Services, objs.EndpointSlices, nil
}
