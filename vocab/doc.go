// Package vocab is the vocabulary weir's parts share, at the bottom of the
// dependency graph: control/, node/, dataplane/, dns/ and the CLI import
// it, and it imports none of them (deps_test.go checks).
//
//   - vocab/manifest: the kinds weir serves and manifest decoding (YAML and
//     JSON documents into typed k8s.io/api objects).
//   - vocab/nodestreampb: the node stream's protobuf and gRPC code, with
//     its .proto (go generate ./vocab/nodestreampb).
//
// The exec and port-forward streams are Kubernetes' own protocols
// (k8s.io/streaming, client-go's remotecommand), so they need no
// vocabulary of weir's.
package vocab
