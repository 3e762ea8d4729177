package printers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var configMapTable = table{
	headers: []string{"NAME", "DATA", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		cm, err := typed[corev1.ConfigMap](obj)
		if err != nil {
			return nil, nil, err
		}
		return []string{cm.Name, fmt.Sprint(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}, nil, nil
	},
}

var secretTable = table{
	headers: []string{"NAME", "TYPE", "DATA", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		s, err := typed[corev1.Secret](obj)
		if err != nil {
			return nil, nil, err
		}
		typ := s.Type
		if typ == "" {
			typ = corev1.SecretTypeOpaque
		}
		keys := map[string]bool{}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range s.StringData {
			keys[k] = true
		}
		return []string{s.Name, string(typ), fmt.Sprint(len(keys)), age(s.CreationTimestamp, now)}, nil, nil
	},
}

var serviceAccountTable = table{
	headers: []string{"NAME", "SECRETS", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		sa, err := typed[corev1.ServiceAccount](obj)
		if err != nil {
			return nil, nil, err
		}
		return []string{sa.Name, fmt.Sprint(len(sa.Secrets)), age(sa.CreationTimestamp, now)}, nil, nil
	},
}
