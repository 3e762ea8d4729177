package node

import (
	"strings"
	"testing"
)

// FuzzDecodeStaticPods: any manifest decodes without a panic, and every
// pod it yields is a valid static pod of the node.
func FuzzDecodeStaticPods(f *testing.F) {
	f.Add([]byte(webYAML))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: x}\n  spec: {containers: [{name: c, image: i}]}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x, annotations: {kubernetes.io/config.mirror: h}}\nspec: {containers: [{name: c, image: i}, {name: c, image: i}]}\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, _ := decodeStaticPods(data, "n1")
		for _, p := range pods {
			if p.Spec.NodeName != "n1" || !strings.HasSuffix(p.Name, "-n1") || p.Namespace == "" || isMirror(&p) || p.UID == "" {
				t.Fatalf("bad static pod %s/%s uid %q node %q annotations %v", p.Namespace, p.Name, p.UID, p.Spec.NodeName, p.Annotations)
			}
			if err := validateStatic(&p); err != nil {
				t.Fatalf("invalid static pod returned: %v", err)
			}
		}
	})
}
