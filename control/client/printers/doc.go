// Package printers renders API objects for people, the way kubectl does:
// tables for `weir get` (per-resource columns for pods, services, nodes,
// deployments, replicasets, jobs, endpoints, endpointslices, configmaps,
// secrets, serviceaccounts, namespaces and events; NAME and AGE for anything
// else), YAML/JSON/name output, and the multi-line view of `weir describe`.
//
// Printing is a pure function of the objects and a clock passed in
// (Options.Now), so output is deterministic. Tests compare against golden
// files in testdata/ (`go test ./control/client/printers -update` rewrites
// them).
package printers
