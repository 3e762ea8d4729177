// Package printers renders API objects for people, the way kubectl does:
// the server's Tables for `weir get` (TablePrinter, k8s.io/cli-runtime's
// table printer over metav1.Table: the columns are kube-apiserver's, as
// control/api/tables computes them; nothing here knows a kind's columns),
// YAML/JSON/name output (managedFields hidden unless asked), and the
// multi-line view of `weir describe` (weir's own describers: kubectl's
// k8s.io/kubectl/pkg/describe would bring the kubectl module, metrics
// and component-helpers, and fetch with its own clients).
//
// Printing is a pure function of its inputs and a clock passed in, so
// output is deterministic. Tests compare against golden files in
// testdata/ (`go test ./control/client/printers -update` rewrites them);
// the table tests print what control/api/tables makes of testdata/get.
package printers
