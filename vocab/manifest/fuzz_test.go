package manifest

import (
	"errors"
	"testing"
)

func FuzzDecodeManifest(f *testing.F) {
	seeds := []string{
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n",
		"---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n...\n",
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}{"kind":1}`,
		"a: &a [x, *a]\n",
		"metadata: {name: 1e400}\nkind: !!binary aGVsbG8=\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		"\t- : ?\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := DecodeManifest(data)
		if err != nil {
			var me *Error
			if !errors.As(err, &me) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither a *manifest.Error nor ErrTooLarge", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, o := range objs {
			if o.GetAPIVersion() == "" || o.GetKind() == "" || (o.GetName() == "" && o.GetGenerateName() == "") {
				t.Fatalf("decoded object lacks apiVersion, kind or name: %v", o.Object)
			}
			if _, err := o.MarshalJSON(); err != nil {
				t.Fatalf("decoded object does not marshal: %v", err)
			}
		}
	})
}
