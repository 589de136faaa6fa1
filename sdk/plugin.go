package sdk

import (
	"context"
	"errors"
	"log/slog"

	"github.com/hashicorp/go-plugin"
	pb "github.com/lendgate/lendgate/internal/providerv1"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the provider protocol this SDK speaks:
// 1 (plugins.md "The protocol"). The value lives with the wire, in one place.
const ProtocolVersion = pb.ProtocolVersion

// servedPlugin is the plugin's go-plugin Plugin: it registers the provider
// service on the server go-plugin runs. The host's half is internal/wire.
type servedPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Provider
	log  *slog.Logger
}

func (p *servedPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterProviderServer(s, &grpcServer{impl: p.impl, log: p.log})
	return nil
}

func (p *servedPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("a plugin does not dial the provider protocol; the host does")
}

// newGRPCServer is the gRPC server a Provider is served on, in a plugin
// process and in process alike: the protocol's message size limits and the
// interceptor that turns a panic into CodeProviderError.
func newGRPCServer(log *slog.Logger, opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(pb.MaxMessageBytes),
		grpc.MaxSendMsgSize(pb.MaxMessageBytes),
		grpc.ChainUnaryInterceptor(recoverPanics(log)),
	)
	return grpc.NewServer(opts...)
}
