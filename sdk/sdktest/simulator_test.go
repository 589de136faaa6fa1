package sdktest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// recordingTB is a testing.TB whose cleanups and log the test runs and
// reads itself.
type recordingTB struct {
	testing.TB
	cleanups []func()
	logs     []string
}

func (r *recordingTB) Helper()          {}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// TestSimulatorLeavesSleepingHandlers: a simulator handler that waits
// without watching its request's context (here until the test lets it go)
// neither holds the plugin's request past its deadline nor the server's
// Close, and the log names it with the check that called it.
func TestSimulatorLeavesSleepingHandlers(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	sleeper := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // a time.Sleep: r.Context() is not watched
	})
	tb := &recordingTB{TB: t}
	srv := Simulator(tb, sleeper)
	name := "TestX/deadline"
	currentCheck.Store(&name)
	defer currentCheck.Store(nil)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/loans", strings.NewReader(`{"isbn":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the sleeping handler answered")
	}

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
	}()
	hang := time.NewTimer(time.Minute) // a guard against a hang, not a measurement
	defer hang.Stop()
	select {
	case <-closed:
	case <-hang.C:
		t.Fatal("closing the simulator waited for the sleeping handler")
	}
	if len(tb.logs) != 1 || !strings.Contains(tb.logs[0], "POST /api/loans") || !strings.Contains(tb.logs[0], name) {
		t.Fatalf("want one log line naming the handler and the check, got %q", tb.logs)
	}
}

// TestSimulatorAnswers: a handler that answers is passed through whole.
func TestSimulatorAnswers(t *testing.T) {
	srv := Simulator(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "later")
	}))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("got %s %v", resp.Status, resp.Header)
	}
}
