//go:build unix

package host_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lendgate/lendgate/host"
)

// TestCloseStopsInFlightCallsWhenItsContextIsDone: Close with a done
// context does not drain: a call in flight that the drain (10 s) would let
// finish (2 s) is cut off and fails, where a Close with time to spare lets
// it finish (TestCloseLetsInFlightCallsFinish).
func TestCloseStopsInFlightCallsWhenItsContextIsDone(t *testing.T) {
	h, started := startSlowCheckout(t, "sleep:2s")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	<-started.inFlight
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-started.done; err == nil {
		t.Fatal("the call in flight succeeded: Close waited for it although its context was done")
	}
}

// TestCloseLetsInFlightCallsFinish: with time left in its context, Close
// drains: the call in flight completes.
func TestCloseLetsInFlightCallsFinish(t *testing.T) {
	h, started := startSlowCheckout(t, "sleep:300ms")
	<-started.inFlight
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-started.done; err != nil {
		t.Fatalf("the call in flight failed during a Close with time to spare: %v", err)
	}
}

type slowCall struct {
	inFlight chan struct{}
	done     chan error
}

// startSlowCheckout starts a host on the fake plugin and a checkout in
// mode (e.g. "sleep:2s"); inFlight closes once the plugin has the call.
func startSlowCheckout(t *testing.T, mode string) (*host.Host, slowCall) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	e := start(t, fakeConfig(t))
	c := slowCall{inFlight: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		_, err := e.h.Checkout(context.Background(), "fake-a", host.CheckoutRequest{Item: isbnOK, Patron: "p1",
			Options: map[string]string{"mode": mode, "started": fifo}})
		c.done <- err
	}()
	go func() {
		f, err := os.Open(fifo) // waits for the plugin to open it for writing
		if err == nil {
			_, _ = f.Read(make([]byte, 1))
			_ = f.Close()
		}
		close(c.inFlight)
	}()
	return e.h, c
}
