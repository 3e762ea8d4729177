// Package objfile loads the Kubernetes objects the DNS server needs
// (Service, EndpointSlice, Pod) from YAML or JSON files, and watches them
// for changes. It feeds the standalone `weir dns` server used by tests and
// benchmarks; inside a cluster the node stream feeds the server instead.
//
// A path is a file or a directory (its *.yaml, *.yml and *.json files, not
// recursive). Files hold one or more documents separated by "---". Objects
// of other kinds are skipped and counted, so a directory of application
// manifests can be served as it is. A document that does not parse, or an
// object without a name, is an error naming the file and document.
//
// Watcher polls the files' modification times and sizes (every second by
// default) and reloads on a change or when asked (SIGHUP in `weir dns`).
// A reload that fails keeps the previous objects and logs why.
//
// Test with go test ./dns/objfile; FuzzParse fuzzes the document parser.
package objfile
