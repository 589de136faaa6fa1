// Package providerv1 is the provider protocol, version 1, on the wire: the
// generated protobuf and gRPC code, and (handshake.go) the go-plugin
// handshake both sides read. Package sdk serves it (the plugin's side) and
// internal/wire calls it (the host's side); no exported API shows it.
// Regenerate with `go generate ./internal/providerv1`: it needs protoc
// (Debian's protobuf-compiler); the Go generators are pinned as tools in
// go.mod and built into a temporary directory. The .proto only gains, never
// changes: a field once sent keeps its number and meaning.
package providerv1

//go:generate sh -c "d=$DOLLAR(mktemp -d) && go build -o $DOLLAR{d}/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc && PATH=$DOLLAR{d}:$DOLLAR{PATH} protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative provider.proto; s=$DOLLAR?; rm -rf $DOLLAR{d}; exit $DOLLAR{s}"
