// Command v2plugin speaks provider protocol version 2, which the host does not
// know: the host must refuse it at start, naming both versions.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"github.com/lendgate/lendgate/sdk"
)

type p struct{ sdk.Unimplemented }

func (p) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "v2", Version: "2.0.0"}, nil
}

func main() {
	hs := sdk.HandshakeConfig()
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{2: {sdk.PluginName: &sdk.GRPCPlugin{Impl: p{}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
