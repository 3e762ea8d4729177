package nodestream

import (
	"testing"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// FuzzDecodeMirror: any pod_json decodes without a panic, and what is
// accepted is a mirror of the sending node under the message's name.
func FuzzDecodeMirror(f *testing.F) {
	f.Add("default", "web-a", []byte(`{"metadata":{"name":"web-a","namespace":"default","uid":"u1","annotations":{"kubernetes.io/config.mirror":"h"}},"spec":{"nodeName":"a","containers":[{"name":"c","image":"i"}]}}`))
	f.Add("default", "web-a", []byte(`{"metadata":{"name":"web-a","namespace":"default","uid":"u1"},"spec":{"nodeName":"b"}}`))
	f.Add("", "", []byte(`null`))
	f.Add("x", "y", []byte(`{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, ns, name string, js []byte) {
		p, err := decodeMirror("a", &pb.MirrorPod{Namespace: ns, Name: name, PodJson: js})
		if err != nil {
			return
		}
		if p.Spec.NodeName != "a" || p.Annotations[AnnotationConfigMirror] == "" || p.UID == "" || p.Namespace != ns || p.Name != name ||
			p.DeletionTimestamp != nil || p.ResourceVersion != "" || len(p.Spec.Containers) == 0 {
			t.Fatalf("accepted %+v", p)
		}
	})
}
