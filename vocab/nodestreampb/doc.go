// Package nodestreampb holds the node stream's protobuf messages and gRPC
// service, generated from nodestream.proto by `go generate
// ./control/nodestream/` (protoc with protoc-gen-go and protoc-gen-go-grpc
// pinned in go.mod's tool block). Do not edit the *.pb.go files.
package nodestreampb
