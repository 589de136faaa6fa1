//go:build unix

package launch_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/launch"
	"github.com/lendgate/lendgate/internal/testbin"
)

const (
	fakePkg = "github.com/lendgate/lendgate/internal/testplugins/fakeplugin"
	v2Pkg   = "github.com/lendgate/lendgate/internal/testplugins/v2plugin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// start copies the binary of pkg and starts it; both go when t ends.
func start(t *testing.T, pkg string) (*launch.Plugin, error) {
	t.Helper()
	img, err := launch.Copy("test", testbin.Build(t, pkg, ""), "", launch.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(img.Remove)
	p, err := launch.Start(t.Context(), launch.Config{Image: img})
	if p != nil {
		t.Cleanup(p.Kill)
	}
	return p, err
}

// gone waits, at most a bound, for ch.
func gone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second): // a bound, not a measure
		t.Fatalf("%s: Exited not closed", what)
	}
}

func TestStartNegotiatesAndKillEnds(t *testing.T) {
	p, err := start(t, fakePkg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.Transport != "grpc" || p.PID <= 0 || len(p.SHA256) != 64 {
		t.Fatalf("started %+v: want protocol 1 over grpc, a pid and a sha256", p)
	}
	if info, err := p.Provider.Describe(t.Context()); err != nil || info.Name == "" {
		t.Fatalf("describe: %+v, %v", info, err)
	}
	p.Kill()
	gone(t, p.Exited(), "after Kill")
	if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the process is still there after Kill: %v", err)
	}
}

func TestExitIsNoticed(t *testing.T) {
	p, err := start(t, fakePkg)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	gone(t, p.Exited(), "after the process was killed")
}

// TestUnknownVersionIsTyped: a plugin speaking protocol 2 is refused with a
// VersionError read from its handshake, naming both sides' versions.
func TestUnknownVersionIsTyped(t *testing.T) {
	_, err := start(t, v2Pkg)
	var ve *launch.VersionError
	if !errors.As(err, &ve) || ve.Plugin != 2 || !slices.Equal(ve.Host, []int{1}) {
		t.Fatalf("start: %v, want a VersionError for 2 against [1]", err)
	}
	if !strings.Contains(err.Error(), "Plugin version: 2") || !strings.Contains(err.Error(), "[1]") {
		t.Errorf("the message %q names neither version", err)
	}
}

func TestCanceledStartFails(t *testing.T) {
	img, err := launch.Copy("test", testbin.Build(t, fakePkg, ""), "", launch.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Remove()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := launch.Start(ctx, launch.Config{Image: img}); !errors.Is(err, context.Canceled) {
		t.Fatalf("start with a canceled context: %v", err)
	}
}

func TestCopyChecksThePin(t *testing.T) {
	bin := testbin.Build(t, fakePkg, "")
	sum := testbin.SHA256(t, bin)
	img, err := launch.Copy("test", bin, strings.ToUpper(sum), launch.CopyOptions{})
	if err != nil {
		t.Fatalf("the right pin, in capitals: %v", err)
	}
	img.Remove()
	if img.SHA256() != sum {
		t.Errorf("copy's sha256 %s, want %s", img.SHA256(), sum)
	}
	_, err = launch.Copy("test", bin, strings.Repeat("1", 64), launch.CopyOptions{})
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), sum) {
		t.Fatalf("a wrong pin: %v, want a mismatch naming the binary's hash", err)
	}
}

// TestRunsTheCheckedBytes: the image is what runs, even when the path holds
// another binary by then.
func TestRunsTheCheckedBytes(t *testing.T) {
	for _, noMemfd := range []bool{false, true} {
		path := testbin.Copy(t, testbin.Build(t, fakePkg, "-X main.version=1.0.0"))
		img, err := launch.Copy("test", path, "", launch.CopyOptions{NoMemfd: noMemfd, AfterHash: func(p string) {
			v2, err := os.ReadFile(testbin.Build(t, fakePkg, "-X main.version=2.0.0"))
			if err == nil {
				err = os.WriteFile(p, v2, 0o755)
			}
			if err != nil {
				t.Error(err)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := launch.Start(t.Context(), launch.Config{Image: img})
		if err != nil {
			t.Fatal(err)
		}
		info, err := p.Provider.Describe(t.Context())
		p.Kill()
		img.Remove()
		if err != nil || info.Version != "1.0.0" {
			t.Fatalf("no memfd %v: running %q (%v), want the checked 1.0.0", noMemfd, info.Version, err)
		}
	}
}
