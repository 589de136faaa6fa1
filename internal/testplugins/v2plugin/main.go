// Command v2plugin speaks provider protocol version 2, which the host does not
// know: the host must refuse it at start, naming both versions.
package main

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	pb "github.com/lendgate/lendgate/internal/providerv1"
	"google.golang.org/grpc"
)

// v2 is a plugin of a protocol that does not exist yet: it only has to get
// through the handshake, which is where the host refuses it.
type v2 struct{ plugin.NetRPCUnsupportedPlugin }

func (v2) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (v2) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("a plugin does not dial")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pb.Handshake(2),
		VersionedPlugins: map[int]plugin.PluginSet{2: {pb.PluginName: v2{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
