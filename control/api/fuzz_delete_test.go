package api

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzDeleteOptions feeds arbitrary DeleteOptions bodies and query
// strings through deleteOptions and applyPropagation: the answer is
// options or a Status, never a panic, and accepted options leave exactly
// the finalizer their policy asks for.
func FuzzDeleteOptions(f *testing.F) {
	seeds := [][2]string{
		{"", `{"propagationPolicy":"Foreground"}`},
		{"propagationPolicy=Orphan", ""},
		{"orphanDependents=true", `{"gracePeriodSeconds":0}`},
		{"propagationPolicy=Background&gracePeriodSeconds=5", `{"orphanDependents":false}`},
		{"propagationPolicy=%00", `{"propagationPolicy":null,"orphanDependents":"x"}`},
		{"", "propagationPolicy: Orphan\ndryRun: [All]\n"},
	}
	for _, s := range seeds {
		f.Add(s[0], []byte(s[1]))
	}
	s := &Server{cfg: Config{MaxBodyBytes: 1 << 20}, log: testLogger(), codecs: newCodecs()}
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		r := httptest.NewRequest("DELETE", "/api/v1/namespaces/default/configmaps/x?"+q.Encode(), bytes.NewReader(body))
		opts, err := s.deleteOptions(httptest.NewRecorder(), r, &request{verb: "delete"})
		if err != nil {
			if asStatus(err).ErrStatus.Code != 400 && asStatus(err).ErrStatus.Code != 413 && asStatus(err).ErrStatus.Code != 415 {
				t.Fatalf("error %v answered %d", err, asStatus(err).ErrStatus.Code)
			}
			return
		}
		pol, err := propagation(opts)
		if err != nil {
			t.Fatalf("deleteOptions accepted options propagation refuses: %v", err)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Finalizers: []string{"example.com/x", FinalizerOrphan}}}
		applyPropagation(cm, pol)
		fg, orph := slices.Contains(cm.Finalizers, FinalizerForeground), slices.Contains(cm.Finalizers, FinalizerOrphan)
		switch pol {
		case metav1.DeletePropagationForeground:
			if !fg || orph {
				t.Fatalf("Foreground left %v", cm.Finalizers)
			}
		case metav1.DeletePropagationBackground:
			if fg || orph {
				t.Fatalf("Background left %v", cm.Finalizers)
			}
		case metav1.DeletePropagationOrphan, "":
			if fg || !orph {
				t.Fatalf("%q left %v", pol, cm.Finalizers)
			}
		}
		if !slices.Contains(cm.Finalizers, "example.com/x") {
			t.Fatalf("other finalizers dropped: %v", cm.Finalizers)
		}
	})
}
