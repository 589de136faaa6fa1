package sdktest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/lendgate/lendgate/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// killTimeout bounds go-plugin's Kill, which waits a fixed 2 s for a
// graceful exit and can hang in gRPC's close.
const killTimeout = 10 * time.Second

// Build compiles the main package pkg with the go command and returns the
// binary's path, in a directory removed when the test ends. pkg is an import
// path or a directory; "." is the package under test, so a plugin's own
// tests can check the binary they are part of:
//
//	sdktest.Run(t, sdktest.Config{Binary: sdktest.Build(t, "."), …})
func Build(t testing.TB, pkg string) string {
	t.Helper()
	out, err := build(t.Context(), t.TempDir(), pkg)
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return out
}

// build runs go build for pkg into dir.
func build(ctx context.Context, dir, pkg string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building %s needs the go command: %w", pkg, err)
	}
	out := filepath.Join(dir, "plugin")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// handshake is what the kit learnt while starting a binary.
type handshake struct {
	version  int
	protocol plugin.Protocol
	overruns *overrunLog
}

// startBinary starts the plugin at path over go-plugin with the host's
// client configuration and returns its Provider. The process is killed when
// t ends, and its log is shown if t failed.
func startBinary(t *testing.T, path string) (sdk.Provider, handshake, error) {
	logs := &logTail{max: 64 << 10}
	overruns := newOverrunLog()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.HandshakeConfig(),
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		// As the host: secrets travel in Configure only, never in the
		// environment.
		SkipHostEnv:  true,
		StartTimeout: 30 * time.Second,
		// The raw JSON lines, for the deadline check.
		Stderr: overruns,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Debug, Output: logs}),
	})
	t.Cleanup(func() {
		stopClient(client)
		if t.Failed() {
			t.Logf("log of %s (last %d bytes):\n%s", filepath.Base(path), logs.max, logs.String())
		}
	})
	hs := handshake{overruns: overruns}
	rpc, err := client.Client()
	if err != nil {
		return nil, hs, fmt.Errorf("starting %s: %w", path, err)
	}
	hs.version, hs.protocol = client.NegotiatedVersion(), client.Protocol()
	p, err := sdk.Dispense(rpc)
	if err != nil {
		return nil, hs, fmt.Errorf("starting %s: %w", path, err)
	}
	return p, hs, nil
}

// stopClient kills a plugin, bounded by killTimeout; past it the process is
// killed outright.
func stopClient(c *plugin.Client) {
	done := make(chan struct{})
	go func() {
		c.Kill()
		close(done)
	}()
	t := time.NewTimer(killTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		if rc := c.ReattachConfig(); rc != nil && rc.Pid > 0 {
			if proc, err := os.FindProcess(rc.Pid); err == nil {
				_ = proc.Kill()
			}
		}
	}
}

// serveInProcess serves impl on a loopback port on the gRPC server that
// sdk.Serve runs a plugin on (sdk.NewGRPCServer: the protocol's message size
// limits and the SDK's panic recovery), and returns the client side: the
// same wire, converters, error details and recovery as between the host and
// a plugin process, without go-plugin's process management.
func serveInProcess(t *testing.T, impl sdk.Provider) (sdk.Provider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	srv := sdk.NewGRPCServer(nil)
	if err := (&sdk.GRPCPlugin{Impl: impl}).GRPCServer(nil, srv); err != nil {
		ln.Close()
		return nil, fmt.Errorf("registering the provider service: %w", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	opts := append(sdk.GRPCDialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), opts...)
	if err != nil {
		srv.Stop()
		<-served
		return nil, fmt.Errorf("dialing the in-process server: %w", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		<-served
	})
	raw, err := (&sdk.GRPCPlugin{}).GRPCClient(t.Context(), nil, conn)
	if err != nil {
		return nil, err
	}
	p, ok := raw.(sdk.Provider)
	if !ok {
		return nil, fmt.Errorf("the gRPC client is a %T, not a provider", raw)
	}
	return p, nil
}

// logTail keeps the last max bytes written to it: a plugin's log, shown only
// when a check fails.
type logTail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > l.max {
		l.b = append([]byte(nil), l.b[len(l.b)-l.max:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
