// Package providerv1 is the generated protobuf and gRPC code of the provider
// protocol, version 1. Only package sdk uses it. Regenerate with
// `go generate ./sdk/...`: it needs protoc (Debian's protobuf-compiler); the Go
// generators are pinned as tools in go.mod and built into a temporary directory.
package providerv1

//go:generate sh -c "d=$DOLLAR(mktemp -d) && go build -o $DOLLAR{d}/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc && PATH=$DOLLAR{d}:$DOLLAR{PATH} protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative provider.proto; s=$DOLLAR?; rm -rf $DOLLAR{d}; exit $DOLLAR{s}"
