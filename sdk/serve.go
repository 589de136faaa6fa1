package sdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs p as a lendgate provider plugin: the go-plugin handshake, gRPC
// with the protocol's message size limit, panics turned into
// CodeProviderError, and a watch on the host process so that the plugin exits
// when the host is gone (even after a kill -9). It returns when the host
// closes the plugin.
func Serve(p Provider) {
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Trace, // the host filters by its own level
		Output:     os.Stderr,
		JSONFormat: true,
	})
	hclog.SetDefault(log)
	go exitWithParent(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  HandshakeConfig(),
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &GRPCPlugin{Impl: p}}},
		Logger:           log,
		GRPCServer:       NewGRPCServer,
	})
}

// NewGRPCServer is the gRPC server Serve runs a plugin on: the protocol's
// message size limits and the interceptor that turns a panic into
// CodeProviderError. The conformance kit serves Provider values on it too.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.ChainUnaryInterceptor(recoverPanics(hclog.Default())),
	)
	return grpc.NewServer(opts...)
}

// exitWithParent exits the process once its parent is gone: the host sets a
// parent-death signal too, but only on Linux, and a plugin must never outlive
// its host.
func exitWithParent(ppid int, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}
