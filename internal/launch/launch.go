// Package launch is the one place that starts a provider plugin process:
// the go-plugin client configuration (handshake, the plugin set of
// internal/wire, gRPC only, AutoMTLS, the protocol's message size limits),
// the private pinned copy of the binary it runs (Image), the parent-death
// signal, the exit watch, the logger, and an environment with nothing of
// the host's in it. The host, the conformance kit (sdk/sdktest) and the
// benchmarks start plugins through it, so that what the kit checks is what
// the host runs.
//
// Decisions:
//   - The host executes a private copy of the binary (a sealed memfd on
//     Linux, else a file in a 0700 directory), hashed while it was copied
//     and checked against the pin; the configured path is never read again,
//     so a binary renamed over it after the check cannot run. Crash restarts
//     run the same copy.
//   - Secrets travel only in Configure: the plugin inherits none of the
//     host's environment (go-plugin's SkipHostEnv).
//   - On Linux the kernel kills the plugin when the host dies, even by
//     SIGKILL (Pdeathsig); elsewhere sdk.Serve's parent watch stops it.
//   - A refused protocol version is read from the plugin's handshake line
//     (a VersionError), not from go-plugin's error text.
package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	goplugin "github.com/hashicorp/go-plugin/runner"
	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/internal/wire"
	"github.com/lendgate/lendgate/sdk"
)

// killTimeout bounds go-plugin's Kill, which waits a fixed 2 s for a
// graceful exit and can hang in gRPC's close; past it the process is killed
// outright.
const killTimeout = 5 * time.Second

// Config is what Start needs to start one plugin process.
type Config struct {
	// Image is the private copy to run (Copy), checked against its pin.
	Image *Image
	// Args0 is what ps shows for the process (the configured path); the
	// image's own path when empty.
	Args0 string
	// Logger receives go-plugin's lines and the plugin's log lines.
	Logger hclog.Logger
	// Stderr, when set, also receives the plugin's raw stderr.
	Stderr io.Writer
	// StartTimeout bounds the handshake; 30 s when zero.
	StartTimeout time.Duration
}

// Plugin is one started plugin process.
type Plugin struct {
	// Provider is the plugin, over the wire.
	Provider sdk.Provider
	// PID is the process id.
	PID int
	// Version is the negotiated protocol version.
	Version int
	// Transport is the negotiated go-plugin transport ("grpc": the only
	// one allowed).
	Transport string
	// SHA256 is the hash of the bytes the process runs.
	SHA256 string

	client   *plugin.Client
	exited   chan struct{}
	exitOnce sync.Once
	stop     chan struct{}
	killOnce sync.Once
}

// Start starts the plugin in c.Image and dispenses its Provider. ctx bounds
// the start as well as c.StartTimeout does; once started, the process lives
// until Kill or its own exit (Exited).
func Start(ctx context.Context, c Config) (*Plugin, error) {
	sum, err := hex.DecodeString(c.Image.SHA256())
	if err != nil {
		return nil, fmt.Errorf("the image's sha256: %w", err)
	}
	cmd := exec.Command(c.Image.execPath)
	if c.Args0 != "" {
		cmd.Args[0] = c.Args0
	}
	setParentDeathSignal(cmd)
	var run *runner
	logger := c.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pb.Handshake(pb.ProtocolVersion),
		VersionedPlugins: versionedPlugins(),
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (goplugin.Runner, error) {
			// go-plugin checks a SecureConfig against the Cmd it runs;
			// with a runner the runner does, on the image, right
			// before the exec (it needs a fresh hash.Hash per start).
			r, err := newRunner(cmd, spec, &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()})
			run = r
			return r, err
		},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  wire.DialOptions(),
		Logger:           logger,
		Stderr:           c.Stderr,
		SkipHostEnv:      true,
		StartTimeout:     cmp(c.StartTimeout, 30*time.Second),
	})
	p := &Plugin{client: client, SHA256: c.Image.SHA256(), exited: make(chan struct{}), stop: make(chan struct{})}
	// The handshake runs aside so that ctx can end the wait; run is set
	// once it has begun, and read only after it ended.
	started := make(chan error, 1)
	go func() { started <- p.dispense(func() *runner { return run }) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		go func() { <-started; p.Kill() }()
		return nil, fmt.Errorf("starting the plugin: %w", ctx.Err())
	}
	if err != nil {
		p.Kill()
		if run != nil {
			if v, ok := run.protocolVersion(); ok && !slices.Contains(wire.Versions(), v) {
				return nil, &VersionError{Plugin: v, Host: wire.Versions()}
			}
		}
		return nil, err
	}
	go p.watch()
	return p, nil
}

// dispense completes the handshake and takes the Provider.
func (p *Plugin) dispense(run func() *runner) error {
	rpc, err := p.client.Client()
	if err != nil {
		return err
	}
	p.Version, p.Transport = p.client.NegotiatedVersion(), string(p.client.Protocol())
	p.PID = run().pid
	p.Provider, err = wire.Dispense(rpc)
	return err
}

// versionedPlugins is what the host offers go-plugin: the versions it speaks.
func versionedPlugins() map[int]plugin.PluginSet {
	m := map[int]plugin.PluginSet{}
	for _, v := range wire.Versions() {
		m[v] = wire.PluginSet()
	}
	return m
}

func cmp(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Exited is closed once the process is gone: it exited by itself, or Kill
// ended it.
func (p *Plugin) Exited() <-chan struct{} { return p.exited }

func (p *Plugin) markExited() { p.exitOnce.Do(func() { close(p.exited) }) }

// watch notices the process's own exit. go-plugin offers no exit
// notification: on Linux a pidfd tells at once; elsewhere, and as a
// backstop, it polls.
func (p *Plugin) watch() {
	exited, release := exitNotifier(p.PID)
	defer release()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-exited:
		case <-t.C:
			if !p.client.Exited() {
				continue
			}
		}
		p.markExited()
		return
	}
}

// Kill ends the process, bounded by killTimeout, and closes Exited.
func (p *Plugin) Kill() {
	p.killOnce.Do(func() {
		close(p.stop)
		defer p.markExited()
		done := make(chan struct{})
		go func() { p.client.Kill(); close(done) }()
		t := time.NewTimer(killTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			if p.PID > 0 {
				if proc, err := os.FindProcess(p.PID); err == nil {
					_ = proc.Kill()
				}
			}
		}
	})
}
