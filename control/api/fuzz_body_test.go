package api

import (
	"net/http/httptest"
	"testing"
)

// FuzzDecodeAndValidate feeds arbitrary bodies through the decoding,
// defaulting and validation of every kind, as a create and as an update of
// itself: whatever the input, the answer is an object or a Status, never a
// panic.
func FuzzDecodeAndValidate(f *testing.F) {
	seeds := []string{
		`{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}`,
		`{"metadata":{"name":"s"},"spec":{"type":"NodePort","clusterIP":"None","ports":[{"port":80,"targetPort":"http","nodePort":30001}]}}`,
		`{"metadata":{"name":"d"},"spec":{"selector":{"matchExpressions":[{"key":"a","operator":"In"}]},"template":{"spec":{}}}}`,
		`{"metadata":{"name":"e"},"addressType":"IPv4","endpoints":[{"addresses":[]}],"ports":[{"port":null}]}`,
		`{"metadata":{"name":"j","uid":"u"},"spec":{"template":{"spec":{"restartPolicy":"Never"}}}}`,
		"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {a: b}\n",
		`{"subsets":[{"addresses":[{"ip":"::1"}],"ports":[{"port":-1}]}]}`,
		`{"spec":{"replicas":-5,"strategy":{"type":"RollingUpdate","rollingUpdate":null}}}`,
		`{"metadata":{"name":"n"},"spec":{"podCIDR":"x","podCIDRs":["10.0.0.0/8"]},"status":{"addresses":[{"type":"InternalIP","address":"y"}]}}`,
		`{"metadata":{"name":"q"},"spec":{"hard":{"pods":"1e3","count/":"1","limits.cpu":"-1m"},"scopes":["X"]},"status":{"used":{"x":"1"}}}`,
		`{"metadata":{"name":"l"},"spec":{"limits":[{"type":"Container","min":{"cpu":"0"},"max":{"cpu":"1"},"maxLimitRequestRatio":{"cpu":"9e18"}},{"type":"Pod"}]}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	reg, err := newRegistry()
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{reg: reg, log: testLogger()}
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := toJSON("yaml", data)
		if err != nil {
			return
		}
		for _, res := range reg.list {
			req := httptest.NewRequest("POST", "/", nil)
			obj, err := res.decodeJSON(httptest.NewRecorder(), req, js)
			if err != nil {
				continue
			}
			rq := &request{verb: "create", res: res, namespace: "default"}
			if err := s.prepareCreate(rq, obj); err != nil {
				continue
			}
			old := obj.DeepCopyObject().(object)
			rq = &request{verb: "update", res: res, namespace: "default", name: obj.GetName()}
			_, _ = s.prepareUpdate(rq, obj, old)
		}
	})
}
