package sdk

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the provider protocol this SDK speaks
// (plugins.md "The protocol").
const ProtocolVersion = 1

// PluginName is the name of the one plugin in the set a provider binary serves.
const PluginName = "provider"

// MaxMessageBytes is the one gRPC message size limit used on both sides of
// the wire (gRPC's default receive limit is 4 MB).
const MaxMessageBytes = 16 << 20

// HandshakeConfig is the go-plugin handshake of every lendgate plugin. The
// magic cookie only keeps a plugin binary from being run by hand by mistake;
// it is not a security measure (the host pins binaries by SHA-256).
func HandshakeConfig() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "LENDGATE_PLUGIN",
		MagicCookieValue: "b7a8d1e4-lend-gate-provider",
	}
}

// GRPCPlugin is the go-plugin Plugin of the provider protocol. Impl is set on
// the plugin side only.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Provider
}

// GRPCServer registers the provider service on the plugin's gRPC server.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterProviderServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns the host's Provider for a plugin connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{c: pb.NewProviderClient(c)}, nil
}

// VersionedPlugins is what a host passes to go-plugin: the protocol versions
// it serves. A plugin speaking none of them is refused at start.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{}},
	}
}

// GRPCDialOptions are the host side's gRPC options (the message size limit).
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes))}
}

// Dispense returns the Provider behind a started go-plugin client.
func Dispense(c plugin.ClientProtocol) (Provider, error) {
	raw, err := c.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispensing %q: %w", PluginName, err)
	}
	p, ok := raw.(Provider)
	if !ok {
		return nil, fmt.Errorf("plugin dispensed %T, not a provider", raw)
	}
	return p, nil
}
