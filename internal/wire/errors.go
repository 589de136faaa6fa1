package wire

import (
	"context"
	"errors"
	"time"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fromStatus turns what a gRPC call returned into an *sdk.Error. A status
// with an ErrorDetail is the plugin's own error; anything else is a failure
// of the plugin process or the transport, which the host reports itself.
func fromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if ok {
		for _, d := range st.Details() {
			if ed, ok := d.(*pb.ErrorDetail); ok {
				return errorFromDetail(ed)
			}
		}
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return sdk.Wrap(sdk.CodePluginUnavailable, ctx.Err(), "call canceled by the caller")
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (ok && st.Code() == codes.DeadlineExceeded):
		return sdk.Wrap(sdk.CodeProviderTimeout, context.DeadlineExceeded, "no answer from the plugin within the instance's timeout")
	case ok && st.Code() == codes.Unimplemented:
		return sdk.Errorf(sdk.CodeUnsupportedOperation, "the plugin does not implement this operation")
	}
	return sdk.Wrap(sdk.CodePluginUnavailable, err, "plugin unavailable: %s", st.Message())
}

// Caps on what a plugin's error may carry into the host (api.md §7: the
// host trusts plugins only so far).
const (
	maxWireMessage      = 1024
	maxWireProviderCode = 100
)

// errorFromDetail reads a plugin's error as the host may believe it: a code
// outside the table, or one that is the host's alone to say, becomes
// CodeProviderError with the plugin's string kept as the provider code,
// texts are capped and the pause is bounded. An answer the SDK marked
// untyped unwraps to providerv1.ErrUntyped (see sdk.Untyped).
func errorFromDetail(ed *pb.ErrorDetail) *sdk.Error {
	code := sdk.Code(ed.GetCode())
	msg := pb.CapText(ed.GetMessage(), maxWireMessage)
	e := sdk.Errorf(code, "%s", msg)
	if ed.GetUntyped() {
		e = sdk.Wrap(code, pb.ErrUntyped, "%s", msg)
	}
	e.ProviderCode = pb.CapText(ed.GetProviderCode(), maxWireProviderCode)
	if !code.Known() || code.HostOnly() {
		e.ProviderCode = pb.CapText(string(code), maxWireProviderCode)
		e.Code = sdk.CodeProviderError
	}
	if ms := ed.GetRetryAfterMs(); ms > 0 {
		e.RetryAfter = sdk.MaxRetryAfter
		if ms < sdk.MaxRetryAfter.Milliseconds() {
			e.RetryAfter = time.Duration(ms) * time.Millisecond
		}
	}
	if sdk.Scope(ed.GetScope()) == sdk.ScopeRequest {
		e.Scope = sdk.ScopeRequest
	}
	if o := sdk.Outcome(ed.GetOutcome()); o >= sdk.OutcomeNotSent && o <= sdk.OutcomeUnknown {
		e.Outcome = o
	}
	return e
}
