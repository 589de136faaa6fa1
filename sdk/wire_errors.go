package sdk

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus turns a plugin's error into the gRPC status that carries it. An
// error that is not an *Error becomes CodeProviderError; an unknown code too,
// keeping the plugin's code as the provider code.
func toStatus(err error) error {
	e := AsError(err)
	if !e.Code.Known() {
		e = &Error{Code: CodeProviderError, ProviderCode: string(e.Code), Message: e.Message, RetryAfter: e.RetryAfter}
	}
	st, derr := status.New(e.Code.Info().grpc, e.Message).WithDetails(&pb.ErrorDetail{
		Code: string(e.Code), ProviderCode: e.ProviderCode, Message: e.Message, RetryAfterMs: e.RetryAfter.Milliseconds(),
		Scope: int32(e.Scope),
	})
	if derr != nil {
		return status.Error(codes.Internal, e.Message)
	}
	return st.Err()
}

// fromStatus turns what a gRPC call returned into an *Error. A status with an
// ErrorDetail is the plugin's own error; anything else is a failure of the
// plugin process or the transport, which the host reports itself.
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
		return &Error{Code: CodePluginUnavailable, Message: "call canceled by the caller", cause: ctx.Err()}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (ok && st.Code() == codes.DeadlineExceeded):
		return &Error{Code: CodeProviderTimeout, Message: "no answer from the plugin within the instance's timeout", cause: context.DeadlineExceeded}
	case ok && st.Code() == codes.Unimplemented:
		return &Error{Code: CodeUnsupportedOperation, Message: "the plugin does not implement this operation"}
	}
	return &Error{Code: CodePluginUnavailable, Message: "plugin unavailable: " + st.Message(), cause: err}
}

// Caps on what a plugin's error may carry into the host (api.md §7: the
// host trusts plugins only so far).
const (
	maxWireMessage      = 1024
	maxWireProviderCode = 100
)

// errorFromDetail reads a plugin's error as the host may believe it: a code
// outside the table becomes CodeProviderError with the plugin's string kept
// as the provider code, texts are capped and the pause is bounded.
func errorFromDetail(ed *pb.ErrorDetail) *Error {
	e := &Error{Code: Code(ed.GetCode()), ProviderCode: capText(ed.GetProviderCode(), maxWireProviderCode),
		Message: capText(ed.GetMessage(), maxWireMessage)}
	if !e.Code.Known() || e.Code.hostOnly() {
		e.ProviderCode = capText(string(e.Code), maxWireProviderCode)
		e.Code = CodeProviderError
	}
	if ms := ed.GetRetryAfterMs(); ms > 0 {
		e.RetryAfter = MaxRetryAfter
		if ms < MaxRetryAfter.Milliseconds() {
			e.RetryAfter = time.Duration(ms) * time.Millisecond
		}
	}
	if Scope(ed.GetScope()) == ScopeRequest {
		e.Scope = ScopeRequest
	}
	return e
}

// capText cuts s to at most n bytes, on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
