package sdk

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestServeRunByHandErrs: without the host's magic cookie Serve returns an
// error for main to report, instead of exiting the process itself.
func TestServeRunByHandErrs(t *testing.T) {
	t.Setenv("LENDGATE_PLUGIN", "")
	if err := Serve(Unimplemented{}); !errors.Is(err, errNotStartedByHost) {
		t.Fatalf("Serve run by hand: %v, want errNotStartedByHost", err)
	}
}

// TestServeOnListenerEndsWithItsContext: the in-process mode returns nil
// once its context ends, and once its listener is closed.
func TestServeOnListenerEndsWithItsContext(t *testing.T) {
	for _, end := range []string{"context", "listener"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- Serve(Unimplemented{}, WithListener(ln), WithContext(ctx)) }()
		if end == "context" {
			cancel()
		} else {
			ln.Close()
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ended by its %s: %v", end, err)
			}
		case <-time.After(10 * time.Second): // a bound, not a measure
			t.Fatalf("Serve did not return once its %s ended", end)
		}
		cancel()
		ln.Close()
	}
}
