package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzWatchStream feeds arbitrary bytes to the watch decoder: it must end
// with an error or io.EOF, never panic, and every event it returns must be
// of a known type with an object.
func FuzzWatchStream(f *testing.F) {
	f.Add([]byte(`{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","resourceVersion":"3"}}}` + "\n"))
	f.Add([]byte(`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}`))
	f.Add([]byte(`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Gone","message":"too old"}}`))
	f.Add([]byte(`{"type":"DELETED","object":[]}`))
	f.Add([]byte(`{"type":"BOOKMARK","object":null}{"type":"MODIFIED","object":{"kind":"X","apiVersion":"v1"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &Watcher{
			resp:   &http.Response{Body: io.NopCloser(bytes.NewReader(data))},
			dec:    json.NewDecoder(bytes.NewReader(data)),
			cancel: func() {},
		}
		defer w.Close()
		for range 1000 {
			ev, err := w.Next()
			if err != nil {
				var se *StatusError
				if errors.As(err, &se) {
					_ = se.Error()
				}
				return
			}
			if ev.Object == nil {
				t.Fatalf("event %q without object", ev.Type)
			}
			switch ev.Type {
			case Added, Modified, Deleted, Bookmark:
			default:
				t.Fatalf("unknown event type %q returned", ev.Type)
			}
		}
	})
}

// FuzzStatusBody decodes arbitrary error bodies; the error must always
// carry the HTTP code, a reason for the codes Kubernetes names, and a
// message.
func FuzzStatusBody(f *testing.F) {
	f.Add(404, []byte(`{"kind":"Status","code":404,"reason":"NotFound","message":"x"}`))
	f.Add(422, []byte(`{"kind":"Status","details":{"causes":[{"field":"a","message":"b"},{}]}}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(500, []byte(`{"kind":"Status","details":null}`))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 400 || code > 599 {
			return
		}
		se := statusFromBody(code, http.StatusText(code), body)
		if se.ErrStatus.Code == 0 {
			t.Fatalf("status %+v lacks a code", se.ErrStatus)
		}
		if se.ErrStatus.Reason == "" && (code >= 500 || reasonForCode(code) != "") {
			t.Fatalf("status %+v lacks a reason", se.ErrStatus)
		}
		if se.Error() == "" {
			t.Fatal("empty message")
		}
	})
}

// FuzzMerge merges arbitrary JSON objects: it must not panic, must not
// modify its inputs, and applying the live object onto itself must change
// nothing.
func FuzzMerge(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2]}}`), []byte(`{"b":{}}`), []byte(`{"a":2,"b":{"c":[3,4]},"d":null}`))
	f.Add([]byte(`{"l":[{"name":"x","p":1}]}`), []byte(`{"l":[{"name":"x","q":1}]}`), []byte(`{"l":[{"name":"y"}]}`))
	f.Add([]byte(`{}`), []byte(`null`), []byte(`{"x":{"y":{"z":[[1],[2]]}}}`))
	f.Fuzz(func(t *testing.T, liveJS, lastJS, desiredJS []byte) {
		live, ok1 := decodeMap(liveJS)
		last, _ := decodeMap(lastJS)
		desired, ok3 := decodeMap(desiredJS)
		if !ok1 || !ok3 {
			return
		}
		liveCopy, _ := decodeMap(liveJS)
		desiredCopy, _ := decodeMap(desiredJS)
		_ = mergeObject(live, last, desired)
		if !equalValues(live, liveCopy) || !equalValues(desired, desiredCopy) {
			t.Fatal("mergeObject modified its inputs")
		}
		if same := mergeObject(live, nil, dropNulls(liveCopy)); !equalValues(same, dropNulls(liveCopy)) {
			t.Fatalf("merging live onto itself changed it: %v -> %v", live, same)
		}
	})
}

// decodeMap decodes a JSON object the way unstructured objects hold it.
func decodeMap(js []byte) (map[string]any, bool) {
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(js, &obj.Object); err != nil || obj.Object == nil {
		return nil, false
	}
	return obj.Object, true
}

// dropNulls removes null map values, also inside lists (a null in
// desired means "remove").
func dropNulls(v map[string]any) map[string]any {
	for k, e := range v {
		if e == nil {
			delete(v, k)
			continue
		}
		dropNullsIn(e)
	}
	return v
}

func dropNullsIn(v any) {
	switch x := v.(type) {
	case map[string]any:
		dropNulls(x)
	case []any:
		for _, e := range x {
			dropNullsIn(e)
		}
	}
}
