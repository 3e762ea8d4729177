// Package kubectl is the acceptance suite of weir's Kubernetes API for
// the real kubectl: TestKubectl brings up one local cluster with
// localcluster.Up (2 nodes, 1 control member, a unique prefix, data dir
// and API port), points the system's kubectl at the kubeconfig weir up
// writes into the data dir (HTTPS with the cluster CA and the admin
// token), and runs kubectl's command families in order against it:
// discovery (version, cluster-info, api-resources, api-versions,
// explain), create, apply (client-side, server-side with conflicts,
// diff, strict field validation), get (every listed kind, output
// formats, selectors, -A, --chunk-size, -w), describe, patch, edit,
// label, annotate, scale, rollout, set, delete with each cascade, wait,
// auth and events, disruption budgets (get pdb, drain blocked by and
// then allowed by a PodDisruptionBudget), node commands (cordon, taint,
// drain), expose, and the
// "streams" group (logs, exec, cp, port-forward).
//
// Each kubectl runs with -v=6, so that every request it made and the
// status the server answered are in its log; a command fails its check
// when the server answered an error status the command did not expect
// (kube-apiserver would not have answered it). Every command, its output,
// exit code and requests are logged with t.Logf.
//
// Run as root after `make build image`:
//
//	WEIR_BIN=$PWD/bin go test ./tests/kubectl/ -v -count=1
package kubectl
