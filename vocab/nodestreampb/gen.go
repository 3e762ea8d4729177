package nodestreampb

// Regenerate the protobuf and gRPC code (protoc from Debian's
// protobuf-compiler; the plugins are pinned in go.mod's tool block):
//
//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) -I . --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative nodestream.proto"
