package sdktest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// untypedFix is what the kit says about an answer that was not an
// *sdk.Error, in op.
func untypedFix(op string) string {
	return fmt.Sprintf("%s answered an error that is not an *sdk.Error (a plain fmt.Errorf or a library's error): the library sees a generic provider_error "+
		"that trips the breaker, whatever went wrong. Fix: return an *sdk.Error, e.g. sdk.Errorf(sdk.CodeProviderError, …) — "+
		"sdk.TransportError(ctx, err) for a failed request, or make the request with sdk.Exchange, which does both", op)
}

// typedWatch wraps the host's side of the wire and records every answer
// that the plugin returned as something other than an *sdk.Error
// (sdk.Untyped), with the operation and the check that got it, and looks
// for the run's secrets in every answer. It works in both modes: the mark
// crosses the wire.
type typedWatch struct {
	next    sdk.Provider
	secrets *secretWatch

	mu   sync.Mutex
	seen map[string]int // "op (in check)" → count
}

func newTypedWatch(next sdk.Provider, secrets *secretWatch) *typedWatch {
	return &typedWatch{next: next, secrets: secrets, seen: map[string]int{}}
}

// note records what an answer of op carried: its value v (nil when it
// carries none the kit reads) and its error.
func (w *typedWatch) note(op string, v any, err error) {
	w.secrets.scanAnswer(op, v, err)
	if !sdk.Untyped(err) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[fmt.Sprintf("%s (in %s)", op, checkName())]++
}

// report lists what note recorded, sorted.
func (w *typedWatch) report() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for k, n := range w.seen {
		out = append(out, fmt.Sprintf("%s, %d×", k, n))
	}
	sort.Strings(out)
	return out
}

func (w *typedWatch) Describe(ctx context.Context) (sdk.Info, error) {
	i, err := w.next.Describe(ctx)
	w.note("Describe", nil, err)
	return i, err
}

func (w *typedWatch) Configure(ctx context.Context, instance string, settings map[string]string) error {
	err := w.next.Configure(ctx, instance, settings)
	w.note("Configure", nil, err)
	return err
}

func (w *typedWatch) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	l, err := w.next.Checkout(ctx, r)
	w.note("Checkout", l, err)
	return l, err
}

func (w *typedWatch) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	f, err := w.next.Fulfill(ctx, r)
	w.note("Fulfill", f, err)
	return f, err
}

func (w *typedWatch) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	l, err := w.next.Renew(ctx, r)
	w.note("Renew", l, err)
	return l, err
}

func (w *typedWatch) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	l, err := w.next.Return(ctx, r)
	w.note("Return", l, err)
	return l, err
}

func (w *typedWatch) Download(ctx context.Context, r sdk.DownloadRequest) (sdk.Fulfillment, error) {
	f, err := w.next.Download(ctx, r)
	w.note("Download", f, err)
	return f, err
}

func (w *typedWatch) CheckAccess(ctx context.Context, r sdk.AccessRequest) (bool, error) {
	ok, err := w.next.CheckAccess(ctx, r)
	w.note("CheckAccess", nil, err)
	return ok, err
}

func (w *typedWatch) HandleNotification(ctx context.Context, n sdk.Notification) (sdk.Event, error) {
	e, err := w.next.HandleNotification(ctx, n)
	w.note("HandleNotification", e, err)
	return e, err
}

func (w *typedWatch) Health(ctx context.Context, instance string) error {
	err := w.next.Health(ctx, instance)
	w.note("Health", nil, err)
	return err
}

func (w *typedWatch) Resolve(ctx context.Context, r sdk.ResolveRequest) (sdk.Resolution, error) {
	rv, ok := w.next.(sdk.Resolver)
	if !ok {
		return sdk.Resolution{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the client does not resolve")
	}
	res, err := rv.Resolve(ctx, r)
	w.note("Resolve", res, err)
	return res, err
}

func (w *typedWatch) Availability(ctx context.Context, r sdk.AvailabilityRequest) (sdk.Availability, error) {
	ar, ok := w.next.(sdk.AvailabilityReporter)
	if !ok {
		return sdk.Availability{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the client does not ask for availability")
	}
	a, err := ar.Availability(ctx, r)
	w.note("Availability", a, err)
	return a, err
}

func (w *typedWatch) Reconcile(ctx context.Context, r sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	rc, ok := w.next.(sdk.Reconciler)
	if !ok {
		return sdk.ReconcilePage{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "the client does not reconcile")
	}
	p, err := rc.Reconcile(ctx, r)
	w.note("Reconcile", p, err)
	return p, err
}

var (
	_ sdk.Provider             = (*typedWatch)(nil)
	_ sdk.Resolver             = (*typedWatch)(nil)
	_ sdk.AvailabilityReporter = (*typedWatch)(nil)
	_ sdk.Reconciler           = (*typedWatch)(nil)
)

// checkTypedErrors fails for every answer of the run that was not an
// *sdk.Error, naming the operation, the check and the fix.
func (k *kit) checkTypedErrors(t *testing.T) {
	for _, s := range k.typed.report() {
		op, _, _ := strings.Cut(s, " ")
		t.Errorf("%s: %s", s, untypedFix(op))
	}
}

// checkTransportFailure configures an extra instance whose every http(s)
// URL setting points at a port where nothing listens, and calls the first
// declared operation (Configure, if it already calls out): a failed
// request must answer provider_error or provider_timeout as an *sdk.Error
// whose message names neither the URL nor the address. A connector that
// passes a transport's error on as it is fails here.
func (k *kit) checkTransportFailure(t *testing.T) {
	c := k.firstCapability(t)
	dead := closedPort(t)
	settings, replaced := pointAt(k.c.Settings, dead)
	if !replaced {
		t.Skip("no setting is an http(s) URL: the kit cannot point the plugin at an unreachable distributor")
	}
	settings[sdk.SettingAllowInsecureHTTP] = "true"
	instance := "sdktest-unreachable-" + k.run
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if err := k.p.Configure(ctx, instance, settings); err != nil {
		k.checkFailure(t, "Configure", err, dead)
		return
	}
	ref := sdk.LoanRef{ID: k.loanID(), Item: k.c.Checkout.Item, Patron: k.c.Checkout.Patron, Format: k.c.Checkout.Format,
		ExpiresAt: time.Now().Add(24 * time.Hour), Options: k.c.Checkout.Options, ProviderRef: map[string]string{"sdktest": "unreachable"}}
	var err error
	if c == sdk.CapCheckout {
		// A checkout's options may carry URLs of their own (De Marque's
		// loan_url): they point at the dead port too.
		r := k.checkout()
		r.Instance = instance
		r.Options, _ = pointAt(r.Options, dead)
		_, err = k.p.Checkout(ctx, r)
	} else {
		err = k.call(ctx, c, instance, ref)
	}
	if err == nil {
		t.Errorf("%s succeeded, though every URL setting of the instance points at %s, where nothing listens", c, dead)
		return
	}
	k.checkFailure(t, string(c), err, dead)
}

// checkFailure checks the answer to a call whose request could not reach
// the distributor at addr.
func (k *kit) checkFailure(t *testing.T, op string, err error, addr string) {
	t.Helper()
	e := sdk.AsError(err)
	switch {
	case sdk.Untyped(err):
		t.Errorf("with the distributor unreachable, %s", untypedFix(op))
	case e.Code != sdk.CodeProviderError && e.Code != sdk.CodeProviderTimeout:
		t.Errorf("with the distributor unreachable, %s answered %s; want %s or %s (sdk.TransportError, sdk.Exchange)",
			op, describeErr(err), sdk.CodeProviderError, sdk.CodeProviderTimeout)
	}
	switch o := sdk.OutcomeOf(err); o {
	case sdk.OutcomeNotSent:
	case sdk.OutcomeUnknown:
		t.Logf("with the distributor unreachable (a refused connection), %s answered outcome %s: safe, but the host keeps the loan unknown; "+
			"nothing was sent, which is %s (sdk.Exchange says so)", op, o, sdk.OutcomeNotSent)
	default:
		t.Errorf("with the distributor unreachable (a refused connection), %s answered outcome %s: nothing reached the distributor, "+
			"so no answer of its can be definitive; want %s (or leave the Outcome unset)", op, o, sdk.OutcomeNotSent)
	}
	_, port, _ := net.SplitHostPort(addr)
	if strings.Contains(e.Message, addr) || strings.Contains(e.Message, ":"+port) {
		t.Errorf("with the distributor unreachable, %s's message %q names the distributor's address: the library sees it; say what failed, not where", op, e.Message)
	}
}

// pointAt returns a copy of m with every http(s) URL value pointed at addr
// over plain http, and whether there was one.
func pointAt(m map[string]string, addr string) (map[string]string, bool) {
	if m == nil {
		return nil, false
	}
	out := make(map[string]string, len(m))
	replaced := false
	for key, v := range m {
		out[key] = v
		if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			u.Scheme, u.Host = "http", addr
			out[key] = u.String()
			replaced = true
		}
	}
	return out, replaced
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
