// Package manifest decodes Kubernetes-style manifests (multi-document YAML
// or a stream of JSON objects) into unstructured objects, and knows the
// kinds weir serves: their API group and version, plural and singular
// names, short names and whether they are namespaced.
//
// It is shared by the API server (control/api) and by clients (the weir
// CLI), and imports nothing of the server, so a client can use it alone.
//
// Promises: DecodeManifest never panics, refuses input larger than
// MaxManifestBytes, and names the failing document (1-based) and field in
// every error. Test with `go test ./vocab/manifest` and fuzz with
// `go test -fuzz FuzzDecodeManifest ./vocab/manifest`.
package manifest
