package sdktest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/lendgate/lendgate/sdk"
)

// panicMessage starts the message of the provider_error that the SDK's
// recovery interceptor (on the gRPC server sdk.Serve runs) makes of
// a panic. The kit looks for it to tell a panic from a distributor's failure
// when it only sees the host's side of the wire.
const panicMessage = "the plugin failed while handling"

// watch wraps a Provider on the plugin's side of the wire (Provider mode):
// it sees what the plugin itself returned, which the wire hides from the
// host — a panic, a code outside the unified vocabulary — and how long its
// methods ran.
type watch struct {
	next sdk.Provider

	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed whenever inflight drops to 0
	panics   map[string]int
	badCodes map[string]int // "op: code" → count
}

func newWatch(next sdk.Provider) *watch {
	idle := make(chan struct{})
	close(idle)
	return &watch{next: next, idle: idle, panics: map[string]int{}, badCodes: map[string]int{}}
}

func (w *watch) enter() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight == 0 {
		w.idle = make(chan struct{})
	}
	w.inflight++
}

// leave ends a call to op. It must be deferred directly: it records a panic
// and panics again with the same value, so that the SDK's own interceptor
// (sdk.Serve's) turns it into provider_error exactly as it does in a
// plugin process. The watch only keeps the record for no_panics.
func (w *watch) leave(op string, errp *error) {
	r := recover()
	w.mu.Lock()
	if r != nil {
		w.panics[fmt.Sprintf("%s: %v", op, r)]++
	} else if c := sdk.CodeOf(*errp); c != "" && !c.Known() {
		w.badCodes[fmt.Sprintf("%s: %q", op, c)]++
	}
	w.inflight--
	if w.inflight == 0 {
		close(w.idle)
	}
	w.mu.Unlock()
	if r != nil {
		panic(r)
	}
}

// waitIdle waits until no call runs, or ctx ends; false in the latter case.
func (w *watch) waitIdle(ctx context.Context) bool {
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}

// report returns the recorded panics and non-unified codes, sorted.
func (w *watch) report() (panics, badCodes []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, n := range w.panics {
		panics = append(panics, fmt.Sprintf("%s (%d×)", k, n))
	}
	for k, n := range w.badCodes {
		badCodes = append(badCodes, fmt.Sprintf("%s (%d×)", k, n))
	}
	sort.Strings(panics)
	sort.Strings(badCodes)
	return panics, badCodes
}

func (w *watch) Describe(ctx context.Context) (i sdk.Info, err error) {
	w.enter()
	defer w.leave("describe", &err)
	return w.next.Describe(ctx)
}

func (w *watch) Configure(ctx context.Context, instance string, settings map[string]string) (err error) {
	w.enter()
	defer w.leave("configure", &err)
	return w.next.Configure(ctx, instance, settings)
}

func (w *watch) Checkout(ctx context.Context, r sdk.CheckoutRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("checkout", &err)
	return w.next.Checkout(ctx, r)
}

func (w *watch) Fulfill(ctx context.Context, r sdk.FulfillRequest) (f sdk.Fulfillment, err error) {
	w.enter()
	defer w.leave("fulfill", &err)
	return w.next.Fulfill(ctx, r)
}

func (w *watch) Renew(ctx context.Context, r sdk.RenewRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("renew", &err)
	return w.next.Renew(ctx, r)
}

func (w *watch) Return(ctx context.Context, r sdk.ReturnRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("return", &err)
	return w.next.Return(ctx, r)
}

func (w *watch) Download(ctx context.Context, r sdk.DownloadRequest) (f sdk.Fulfillment, err error) {
	w.enter()
	defer w.leave("download", &err)
	return w.next.Download(ctx, r)
}

func (w *watch) CheckAccess(ctx context.Context, r sdk.AccessRequest) (ok bool, err error) {
	w.enter()
	defer w.leave("access check", &err)
	return w.next.CheckAccess(ctx, r)
}

func (w *watch) HandleNotification(ctx context.Context, n sdk.Notification) (e sdk.Event, err error) {
	w.enter()
	defer w.leave("notification", &err)
	return w.next.HandleNotification(ctx, n)
}

func (w *watch) Health(ctx context.Context, instance string) (err error) {
	w.enter()
	defer w.leave("health", &err)
	return w.next.Health(ctx, instance)
}

var _ sdk.Provider = (*watch)(nil)
