package wire_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/wire"
	"github.com/lendgate/lendgate/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// answering is a Provider whose Checkout returns err and whose Describe
// panics: what crosses the wire of those is the test's subject.
type answering struct {
	sdk.Unimplemented
	err error
}

func (a answering) Checkout(context.Context, sdk.CheckoutRequest) (sdk.Loan, error) {
	return sdk.Loan{}, a.err
}

func (answering) Describe(context.Context) (sdk.Info, error) {
	panic("a distributor's answer broke the plugin")
}

// dial serves p in process over the SDK's server half (sdk.Serve on a
// listener) and returns the host's half of the same wire.
func dial(t *testing.T, p sdk.Provider) sdk.Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sdk.Serve(p, sdk.WithListener(ln), sdk.WithContext(t.Context())) }()
	conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(),
		append(wire.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		ln.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return wire.NewClient(conn)
}

// TestUntypedErrorCrossesGeneric: a plain error with a URL in it crosses the
// wire as a generic provider_error marked untyped; its text stays behind.
func TestUntypedErrorCrossesGeneric(t *testing.T) {
	const key = "s3cret-api-key-42"
	plain := fmt.Errorf("post http://10.0.0.7:8443/internal/loans?key=%s: connection refused", key)
	_, got := dial(t, answering{err: plain}).Checkout(t.Context(), sdk.CheckoutRequest{})
	e := sdk.AsError(got)
	if e.Code != sdk.CodeProviderError || !sdk.Untyped(got) {
		t.Fatalf("want an untyped provider_error, got %v (untyped %v)", got, sdk.Untyped(got))
	}
	for _, leak := range []string{"10.0.0.7", "internal", key} {
		if strings.Contains(e.Message, leak) {
			t.Errorf("message %q holds %q", e.Message, leak)
		}
	}
	_, typed := dial(t, answering{err: sdk.Errorf(sdk.CodeNotAvailable, "gone").WithProviderCode("X-1")}).Checkout(t.Context(), sdk.CheckoutRequest{})
	if sdk.Untyped(typed) || sdk.CodeOf(typed) != sdk.CodeNotAvailable || sdk.AsError(typed).ProviderCode != "X-1" {
		t.Errorf("an *Error: got %v, untyped %v", typed, sdk.Untyped(typed))
	}
}

// TestPanicCrossesAsProviderError: the SDK's recovery answers for a panic,
// and the server keeps serving.
func TestPanicCrossesAsProviderError(t *testing.T) {
	p := dial(t, answering{err: sdk.Errorf(sdk.CodeItemNotFound, "no such item")})
	if _, err := p.Describe(t.Context()); sdk.CodeOf(err) != sdk.CodeProviderError {
		t.Fatalf("a panic answered %v, want provider_error", err)
	}
	if _, err := p.Checkout(t.Context(), sdk.CheckoutRequest{}); sdk.CodeOf(err) != sdk.CodeItemNotFound {
		t.Fatalf("after a panic: %v, want item_not_found", err)
	}
}

// TestCanceledCallKeepsItsCause: a call the caller gave up on is the host's
// plugin_unavailable, and still errors.Is context.Canceled.
func TestCanceledCallKeepsItsCause(t *testing.T) {
	p := dial(t, answering{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.Checkout(ctx, sdk.CheckoutRequest{})
	if sdk.CodeOf(err) != sdk.CodePluginUnavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want plugin_unavailable wrapping context.Canceled", err)
	}
}

// TestOutcomeCrossesTheWire: what a plugin's error says of its effect at
// the distributor reaches the host as the plugin said it.
func TestOutcomeCrossesTheWire(t *testing.T) {
	for _, o := range []sdk.Outcome{sdk.OutcomeUnspecified, sdk.OutcomeNotSent, sdk.OutcomeDefinitive, sdk.OutcomeUnknown} {
		c := dial(t, answering{err: sdk.Errorf(sdk.CodeProviderError, "cut").WithOutcome(o)})
		_, err := c.Checkout(t.Context(), sdk.CheckoutRequest{})
		if got := sdk.AsError(err).Outcome; got != o {
			t.Errorf("sent %v, the host read %v", o, got)
		}
	}
	// Unspecified reads by the code.
	if got := sdk.OutcomeOf(sdk.Errorf(sdk.CodeProviderError, "x")); got != sdk.OutcomeUnknown {
		t.Errorf("unspecified provider_error: %v, want unknown", got)
	}
	if got := sdk.OutcomeOf(sdk.Errorf(sdk.CodeNotAvailable, "x")); got != sdk.OutcomeDefinitive {
		t.Errorf("unspecified not_available: %v, want definitive", got)
	}
}

// reporting offers availability and reconcile with fixed answers.
type reporting struct {
	sdk.Unimplemented
	a sdk.Availability
	p sdk.ReconcilePage
}

func (r reporting) Availability(context.Context, sdk.AvailabilityRequest) (sdk.Availability, error) {
	return r.a, nil
}

func (r reporting) Reconcile(_ context.Context, q sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	if q.Cursor != "c1" || q.Limit != 50 {
		return sdk.ReconcilePage{}, sdk.Errorf(sdk.CodeInvalidRequest, "cursor %q limit %d", q.Cursor, q.Limit)
	}
	return r.p, nil
}

// TestAvailabilityAndReconcileCrossTheWire: the two optional capabilities
// reach the host whole, and a plugin without them answers
// unsupported_operation.
func TestAvailabilityAndReconcileCrossTheWire(t *testing.T) {
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	want := reporting{
		a: sdk.Availability{Owned: 3, Available: 1, Licenses: []sdk.License{{ID: "urn:l1", Format: sdk.MediaTypeEPUB, Status: "available",
			Checkouts: 10, Left: 7, Concurrency: sdk.Unlimited, Available: 1, Expires: exp, Length: 21 * 24 * time.Hour}}},
		p: sdk.ReconcilePage{Loans: []sdk.HeldLoan{{LoanID: "ln_1", ProviderRef: map[string]string{"lsd": "https://x/lsd/1"}, Item: "i", Patron: "p", ExpiresAt: exp}}, Next: "c2"},
	}
	c := dial(t, want)
	a, err := c.(sdk.AvailabilityReporter).Availability(t.Context(), sdk.AvailabilityRequest{Instance: "x", Item: "i"})
	if err != nil || fmt.Sprint(a) != fmt.Sprint(want.a) {
		t.Errorf("availability: %+v, %v; want %+v", a, err, want.a)
	}
	p, err := c.(sdk.Reconciler).Reconcile(t.Context(), sdk.ReconcileRequest{Instance: "x", Cursor: "c1", Limit: 50})
	if err != nil || fmt.Sprint(p) != fmt.Sprint(want.p) {
		t.Errorf("reconcile: %+v, %v; want %+v", p, err, want.p)
	}
	bare := dial(t, answering{})
	if _, err := bare.(sdk.AvailabilityReporter).Availability(t.Context(), sdk.AvailabilityRequest{}); sdk.CodeOf(err) != sdk.CodeUnsupportedOperation {
		t.Errorf("availability without the capability: %v", err)
	}
	if _, err := bare.(sdk.Reconciler).Reconcile(t.Context(), sdk.ReconcileRequest{}); sdk.CodeOf(err) != sdk.CodeUnsupportedOperation {
		t.Errorf("reconcile without the capability: %v", err)
	}
}

// describing answers a fixed Info.
type describing struct {
	sdk.Unimplemented
	info sdk.Info
}

func (d describing) Describe(context.Context) (sdk.Info, error) { return d.info, nil }

// TestInfoCrossesTheWire: every declaration of Info reaches the host, the
// dedupe claims and the secret settings among them.
func TestInfoCrossesTheWire(t *testing.T) {
	want := sdk.Info{Name: "acme", Version: "1.2.3", Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapRenew},
		Formats: []string{sdk.FormatEPUB, sdk.FormatAudiobook}, Options: map[string][]string{"medium": {"download"}}, Items: sdk.ItemsISBN,
		DedupesCheckout: true, DedupesRenew: true, DedupesReturn: true, Secrets: []string{"api_key", "signing_secret"}}
	got, err := dial(t, describing{info: want}).Describe(t.Context())
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Describe: %+v, %v; want %+v", got, err, want)
	}
}
