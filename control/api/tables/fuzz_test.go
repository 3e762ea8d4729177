package tables

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FuzzConvert decodes arbitrary JSON into one of the served kinds (an
// object or its list) and converts it: Convert must not panic, and every
// row must have one cell per column.
func FuzzConvert(f *testing.F) {
	var protos []runtime.Object
	for _, fx := range fixtures() {
		items, err := meta.ExtractList(fx.list)
		if err != nil {
			f.Fatal(err)
		}
		for i, obj := range append([]runtime.Object{fx.list}, items...) {
			b, err := json.Marshal(obj)
			if err != nil {
				f.Fatal(err)
			}
			if i < 2 { // the list and one item of each kind
				protos = append(protos, obj)
			}
			f.Add(uint8(len(protos)-1), b)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		proto := protos[int(kind)%len(protos)]
		obj := reflect.New(reflect.TypeOf(proto).Elem()).Interface().(runtime.Object)
		if err := json.Unmarshal(data, obj); err != nil {
			return
		}
		for _, policy := range []metav1.IncludeObjectPolicy{metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone} {
			table, err := Convert(obj, Options{Now: now, IncludeObject: policy})
			if err != nil {
				t.Fatalf("%T: %v", obj, err)
			}
			for _, r := range table.Rows {
				if len(r.Cells) != len(table.ColumnDefinitions) {
					t.Fatalf("%T: %d cells for %d columns", obj, len(r.Cells), len(table.ColumnDefinitions))
				}
			}
			if _, err := json.Marshal(table); err != nil {
				t.Fatalf("%T: encode: %v", obj, err)
			}
		}
	})
}
