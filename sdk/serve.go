package sdk

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	pb "github.com/lendgate/lendgate/internal/providerv1"
	"google.golang.org/grpc"
)

// Option changes how Serve runs a Provider.
type Option func(*serveConfig)

type serveConfig struct {
	log      *slog.Logger
	listener net.Listener
	ctx      context.Context
}

// parentWatchEvery is how often a plugin process checks that its host is
// still there.
const parentWatchEvery = time.Second

// WithLogger sets where Serve logs: a method's error that is not an *Error,
// a recovered panic, a method that returned after its call ended. The
// default writes JSON lines on stderr in the shape the host reads.
func WithLogger(l *slog.Logger) Option {
	return func(c *serveConfig) { c.log = l }
}

// WithListener serves the protocol on l, in process, without go-plugin's
// handshake, TLS or process watch: the same gRPC server, converters, error
// details and panic recovery as a plugin process, for tests that run a
// Provider value (the conformance kit's in-process mode). Serve returns
// once l is closed or the context (WithContext) ends.
func WithListener(l net.Listener) Option {
	return func(c *serveConfig) { c.listener = l }
}

// WithContext ends serving when ctx ends.
func WithContext(ctx context.Context) Option {
	return func(c *serveConfig) { c.ctx = ctx }
}

// errNotStartedByHost is Serve's answer in a binary run by hand.
var errNotStartedByHost = errors.New("this binary is a lendgate provider plugin: a lendgate host starts it, it is not run by hand")

// Serve runs p as a lendgate provider plugin: the go-plugin handshake, gRPC
// with the protocol's message size limits, panics turned into
// CodeProviderError, and a watch on the host process so that the plugin
// stops serving when the host is gone (even after a kill -9). It returns nil
// when the host closes the plugin or is gone, and an error when the binary
// was not started by a host or go-plugin could not serve. A main is:
//
//	func main() {
//		if err := sdk.Serve(newProvider()); err != nil {
//			log.Fatal(err)
//		}
//	}
func Serve(p Provider, opts ...Option) error {
	c := serveConfig{ctx: context.Background()}
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = newPluginLogger(os.Stderr)
	}
	if c.listener != nil {
		return serveOn(c, p)
	}
	hs := pb.Handshake(pb.ProtocolVersion)
	// go-plugin would say so and os.Exit(1); an error lets main decide.
	if os.Getenv(hs.MagicCookieKey) != hs.MagicCookieValue {
		return errNotStartedByHost
	}
	ctx, stop := context.WithCancel(c.ctx)
	defer stop()
	served := false
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{pb.ProtocolVersion: {pb.PluginName: &servedPlugin{impl: p, log: c.log}}},
		// go-plugin builds the server while it starts serving, in this
		// goroutine; stopping it is how serving ends without os.Exit.
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			served = true
			srv := newGRPCServer(c.log, o)
			go func() {
				watchParent(ctx, os.Getppid(), parentWatchEvery)
				srv.Stop()
			}()
			return srv
		},
	})
	if !served {
		return errors.New("go-plugin could not start serving the plugin (its log says why)")
	}
	return nil
}

// serveOn serves p on c.listener until the listener is closed or c.ctx ends.
func serveOn(c serveConfig, p Provider) error {
	srv := newGRPCServer(c.log, nil)
	pb.RegisterProviderServer(srv, &grpcServer{impl: p, log: c.log})
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-c.ctx.Done():
		case <-done:
		}
		srv.Stop()
	}()
	err := srv.Serve(c.listener)
	if err == nil || errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// watchParent returns once the process's parent is no longer ppid, or ctx
// ends. The host sets a parent-death signal too, but only on Linux, and a
// plugin must never outlive its host.
func watchParent(ctx context.Context, ppid int, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != ppid {
				return
			}
		}
	}
}
