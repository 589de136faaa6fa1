package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin"
)

// runner is the go-plugin runner of a plugin process. go-plugin's own (used
// when ClientConfig.Cmd is set) gives no access to the handshake line; this
// one keeps it, so that a refused protocol version is read from what the
// plugin said rather than from go-plugin's error text. It also checks the
// image against its hash right before the exec, which is what go-plugin's
// SecureConfig does for a Cmd.
type runner struct {
	cmd    *exec.Cmd
	secure *plugin.SecureConfig
	stdout *firstLine
	stderr io.ReadCloser
	pid    int
}

// newRunner prepares cmd with the environment go-plugin made in spec (the
// magic cookie, the protocol versions, the mTLS certificate, the socket
// directory: nothing of the host's own, see SkipHostEnv).
func newRunner(cmd *exec.Cmd, spec *exec.Cmd, secure *plugin.SecureConfig) (*runner, error) {
	cmd.Env = spec.Env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errOut, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &runner{cmd: cmd, secure: secure, stdout: &firstLine{r: out}, stderr: errOut}, nil
}

func (r *runner) Start(context.Context) error {
	if r.secure != nil {
		ok, err := r.secure.Check(r.cmd.Path)
		if err != nil {
			return fmt.Errorf("verifying the checksum: %w", err)
		}
		if !ok {
			return plugin.ErrChecksumsDoNotMatch
		}
	}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

func (r *runner) Diagnose(context.Context) string {
	return "the plugin exited or did not complete the go-plugin handshake; its log says why"
}

func (r *runner) Stdout() io.ReadCloser { return r.stdout }
func (r *runner) Stderr() io.ReadCloser { return r.stderr }
func (r *runner) Name() string          { return r.cmd.Path }
func (r *runner) ID() string            { return strconv.Itoa(r.pid) }

func (r *runner) Wait(context.Context) error { return r.cmd.Wait() }

func (r *runner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *runner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *runner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// protocolVersion is the application protocol version the plugin announced
// in its handshake line ("core|app|network|addr|protocol|cert"), if it got
// that far.
func (r *runner) protocolVersion() (int, bool) {
	fields := strings.Split(r.stdout.line(), "|")
	if len(fields) < 2 {
		return 0, false
	}
	v, err := strconv.Atoi(fields[1])
	return v, err == nil
}

// firstLine passes a plugin's stdout through and keeps its first line (the
// handshake), at most maxHandshake bytes of it.
type firstLine struct {
	r    io.ReadCloser
	mu   sync.Mutex
	buf  []byte
	done bool
}

const maxHandshake = 4 << 10

func (f *firstLine) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done && n > 0 {
		chunk := p[:n]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk, f.done = chunk[:i], true
		}
		f.buf = append(f.buf, chunk...)
		if len(f.buf) >= maxHandshake {
			f.buf, f.done = f.buf[:maxHandshake], true
		}
	}
	return n, err
}

func (f *firstLine) Close() error { return f.r.Close() }

func (f *firstLine) line() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.TrimSpace(string(f.buf))
}
