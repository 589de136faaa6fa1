package sdktest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/internal/wire"
	"github.com/lendgate/lendgate/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Build compiles the main package pkg with the go command and returns the
// binary's path, in a directory removed when the test ends. pkg is an import
// path or a directory; "." is the package under test, so a plugin's own
// tests can check the binary they are part of:
//
//	sdktest.Run(t, sdktest.Config{Binary: sdktest.Build(t, "."), …})
//
// Under go test -race it builds the plugin with the race detector too, so
// that the kit's concurrent calls find the plugin's data races.
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
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, goTool, append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// handshake is what the kit learnt while starting a binary.
type handshake struct {
	version   int
	transport string
	// stop kills the process and returns once its stderr has been read
	// to the end (go-plugin drains it before Kill returns).
	stop func()
}

// startBinary starts the plugin at path exactly as the host does
// (internal/launch: a private copy checked against its hash, go-plugin over
// gRPC with AutoMTLS, the parent-death signal, no host environment) and
// returns its Provider. Its raw stderr goes to log. The process is killed
// when t ends, and the end of its log (warnings and errors) is shown if t
// failed.
func startBinary(t *testing.T, path string, log *pluginLog) (sdk.Provider, handshake, error) {
	logs := &logTail{max: 32 << 10}
	hs := handshake{stop: func() {}}
	img, err := launch.Copy(filepath.Base(path), path, "", launch.CopyOptions{})
	if err != nil {
		return nil, hs, fmt.Errorf("starting %s: %w", path, err)
	}
	p, err := launch.Start(t.Context(), launch.Config{
		Image:  img,
		Args0:  path,
		Stderr: log,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Info, Output: logs}),
	})
	t.Cleanup(func() {
		if p != nil {
			p.Kill()
		}
		img.Remove()
		if t.Failed() && logs.String() != "" {
			t.Logf("log of %s, info and above (last %d bytes):\n%s", filepath.Base(path), logs.max, logs.String())
		}
	})
	if err != nil {
		return nil, hs, fmt.Errorf("starting %s: %w", path, err)
	}
	hs.version, hs.transport, hs.stop = p.Version, p.Transport, p.Kill
	return p.Provider, hs, nil
}

// serveInProcess serves impl on a loopback port with sdk.Serve's in-process
// mode (the gRPC server a plugin process runs: the protocol's message size
// limits and the SDK's panic recovery) and returns the host's side of the
// wire (internal/wire): the same converters, error details and recovery as
// between the host and a plugin process, without the process. What the
// plugin logs through sdk.Logger goes to logw, as JSON lines.
func serveInProcess(t *testing.T, impl sdk.Provider, logw io.Writer) (sdk.Provider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	logger := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { served <- sdk.Serve(impl, sdk.WithListener(ln), sdk.WithContext(ctx), sdk.WithLogger(logger)) }()
	opts := append(wire.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), opts...)
	if err != nil {
		cancel()
		<-served
		return nil, fmt.Errorf("dialing the in-process server: %w", err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serving in process: %v", err)
		}
	})
	return wire.NewClient(conn), nil
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
