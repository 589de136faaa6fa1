package wire_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

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
