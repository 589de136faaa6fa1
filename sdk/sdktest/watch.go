package sdktest

import (
	"context"
	"fmt"
	"runtime/debug"
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
	panics   []panicRecord
	badCodes map[string]int // "op: code" → count
	changed  chan struct{}  // closed and replaced on every panic
}

func newWatch(next sdk.Provider) *watch {
	idle := make(chan struct{})
	close(idle)
	return &watch{next: next, idle: idle, badCodes: map[string]int{}, changed: make(chan struct{})}
}

func (w *watch) enter() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight == 0 {
		w.idle = make(chan struct{})
	}
	w.inflight++
}

// leave ends a call to op (the Go method's name). It must be deferred
// directly: it records a panic, with the first frame of the plugin's own
// code, and panics again with the same value, so that the SDK's own
// interceptor (sdk.Serve's) turns it into provider_error exactly as it
// does in a plugin process. The watch only keeps the record for no_panics
// and for the check that met the panic.
func (w *watch) leave(op string, errp *error) {
	r := recover()
	var frame string
	if r != nil {
		frame = firstFrame(string(debug.Stack()))
	}
	w.mu.Lock()
	if r != nil {
		w.panics = append(w.panics, panicRecord{method: op, value: fmt.Sprint(r), frame: frame})
		close(w.changed)
		w.changed = make(chan struct{})
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

// panicOf waits (until ctx ends) for the latest panic in method.
func (w *watch) panicOf(ctx context.Context, method string) (panicRecord, bool) {
	for {
		w.mu.Lock()
		for i := len(w.panics) - 1; i >= 0; i-- {
			if w.panics[i].method == methodName(method) {
				p := w.panics[i]
				w.mu.Unlock()
				return p, true
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return panicRecord{}, false
		}
	}
}

// allPanics returns the recorded panics.
func (w *watch) allPanics() []panicRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]panicRecord(nil), w.panics...)
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

// badCodeReport returns the recorded non-unified codes, sorted.
func (w *watch) badCodeReport() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var badCodes []string
	for k, n := range w.badCodes {
		badCodes = append(badCodes, fmt.Sprintf("%s (%d×)", k, n))
	}
	sort.Strings(badCodes)
	return badCodes
}

func (w *watch) Describe(ctx context.Context) (i sdk.Info, err error) {
	w.enter()
	defer w.leave("Describe", &err)
	return w.next.Describe(ctx)
}

func (w *watch) Configure(ctx context.Context, instance string, settings map[string]string) (err error) {
	w.enter()
	defer w.leave("Configure", &err)
	return w.next.Configure(ctx, instance, settings)
}

func (w *watch) Checkout(ctx context.Context, r sdk.CheckoutRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("Checkout", &err)
	return w.next.Checkout(ctx, r)
}

func (w *watch) Fulfill(ctx context.Context, r sdk.FulfillRequest) (f sdk.Fulfillment, err error) {
	w.enter()
	defer w.leave("Fulfill", &err)
	return w.next.Fulfill(ctx, r)
}

func (w *watch) Renew(ctx context.Context, r sdk.RenewRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("Renew", &err)
	return w.next.Renew(ctx, r)
}

func (w *watch) Return(ctx context.Context, r sdk.ReturnRequest) (l sdk.Loan, err error) {
	w.enter()
	defer w.leave("Return", &err)
	return w.next.Return(ctx, r)
}

func (w *watch) Download(ctx context.Context, r sdk.DownloadRequest) (f sdk.Fulfillment, err error) {
	w.enter()
	defer w.leave("Download", &err)
	return w.next.Download(ctx, r)
}

func (w *watch) CheckAccess(ctx context.Context, r sdk.AccessRequest) (ok bool, err error) {
	w.enter()
	defer w.leave("CheckAccess", &err)
	return w.next.CheckAccess(ctx, r)
}

func (w *watch) HandleNotification(ctx context.Context, n sdk.Notification) (e sdk.Event, err error) {
	w.enter()
	defer w.leave("HandleNotification", &err)
	return w.next.HandleNotification(ctx, n)
}

func (w *watch) Health(ctx context.Context, instance string) (err error) {
	w.enter()
	defer w.leave("Health", &err)
	return w.next.Health(ctx, instance)
}

// Resolve, Availability and Reconcile pass the optional interfaces on:
// a plugin without one answers unsupported_operation, as sdk.Serve does.

func (w *watch) Resolve(ctx context.Context, r sdk.ResolveRequest) (res sdk.Resolution, err error) {
	w.enter()
	defer w.leave("Resolve", &err)
	rv, ok := w.next.(sdk.Resolver)
	if !ok {
		return sdk.Resolution{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the plugin does not resolve")
	}
	return rv.Resolve(ctx, r)
}

func (w *watch) Availability(ctx context.Context, r sdk.AvailabilityRequest) (a sdk.Availability, err error) {
	w.enter()
	defer w.leave("Availability", &err)
	ar, ok := w.next.(sdk.AvailabilityReporter)
	if !ok {
		return sdk.Availability{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the plugin does not report availability")
	}
	return ar.Availability(ctx, r)
}

func (w *watch) Reconcile(ctx context.Context, r sdk.ReconcileRequest) (p sdk.ReconcilePage, err error) {
	w.enter()
	defer w.leave("Reconcile", &err)
	rc, ok := w.next.(sdk.Reconciler)
	if !ok {
		return sdk.ReconcilePage{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the plugin does not reconcile")
	}
	return rc.Reconcile(ctx, r)
}

var (
	_ sdk.Provider             = (*watch)(nil)
	_ sdk.Resolver             = (*watch)(nil)
	_ sdk.AvailabilityReporter = (*watch)(nil)
	_ sdk.Reconciler           = (*watch)(nil)
)
