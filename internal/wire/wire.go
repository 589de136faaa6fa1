// Package wire is the host's side of the provider protocol: the gRPC client
// that turns a plugin connection back into an sdk.Provider (every answer
// converted to sdk types, every error an *sdk.Error the host may believe),
// and the go-plugin plugin set that internal/launch hands to go-plugin.
//
// The plugin's side (the gRPC server, its converters and toStatus) stays in
// package sdk, unexported, because sdk.Serve needs it and sdk cannot import
// this package; both sides read the handshake, plugin name and size limit
// from internal/providerv1.
package wire

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-plugin"
	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/sdk"
	"google.golang.org/grpc"
)

// NewClient returns the Provider behind conn, a connection to a server of
// the provider protocol.
func NewClient(conn grpc.ClientConnInterface) sdk.Provider {
	return &grpcClient{c: pb.NewProviderClient(conn)}
}

// DialOptions are the host side's gRPC options: the protocol's message size
// limit, the same as the plugin's.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(pb.MaxMessageBytes), grpc.MaxCallSendMsgSize(pb.MaxMessageBytes))}
}

// Versions are the protocol versions this host speaks.
func Versions() []int { return []int{pb.ProtocolVersion} }

// clientPlugin is the host's go-plugin Plugin of the provider protocol: it
// only dials.
type clientPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (clientPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host does not serve the provider protocol")
}

func (clientPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// PluginSet is the go-plugin plugin set of one protocol version, as a host
// passes it in ClientConfig.VersionedPlugins.
func PluginSet() plugin.PluginSet {
	return plugin.PluginSet{pb.PluginName: clientPlugin{}}
}

// Dispense returns the Provider behind a started go-plugin client.
func Dispense(c plugin.ClientProtocol) (sdk.Provider, error) {
	raw, err := c.Dispense(pb.PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispensing %q: %w", pb.PluginName, err)
	}
	p, ok := raw.(sdk.Provider)
	if !ok {
		return nil, fmt.Errorf("plugin dispensed %T, not a provider", raw)
	}
	return p, nil
}
