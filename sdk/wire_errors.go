package sdk

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus turns a plugin's error into the gRPC status that carries it. An
// unknown code becomes CodeProviderError, keeping the plugin's code as the
// provider code. An error that is not an *Error (a plain fmt.Errorf, an
// http.Client's error with the distributor's URL in it) crosses as a generic
// CodeProviderError marked untyped: its text stays in the plugin's log, with
// URLs redacted, and never reaches the host, a library or the conformance
// kit's report, which names the operation instead.
func toStatus(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		hclog.Default().Warn("a plugin method returned an error that is not an *sdk.Error; the host sees a generic provider_error. Return sdk.Errorf(sdk.CodeProviderError, …) or another unified code",
			"error", redactURLs(err.Error()))
		e = &Error{Code: CodeProviderError, Message: untypedMessage, untyped: true}
	}
	if !e.Code.Known() {
		e = &Error{Code: CodeProviderError, ProviderCode: string(e.Code), Message: e.Message, RetryAfter: e.RetryAfter}
	}
	st, derr := status.New(e.Code.Info().grpc, e.Message).WithDetails(&pb.ErrorDetail{
		Code: string(e.Code), ProviderCode: e.ProviderCode, Message: e.Message, RetryAfterMs: e.RetryAfter.Milliseconds(),
		Scope: int32(e.Scope), Untyped: e.untyped,
	})
	if derr != nil {
		return status.Error(codes.Internal, e.Message)
	}
	return st.Err()
}

// untypedMessage is what the host sees of an error that was not an *Error.
const untypedMessage = "the plugin failed with an error that has no unified code"

// Untyped reports whether err is a plugin's answer that was not an *Error
// (the SDK sent a generic provider_error in its place). The conformance kit
// fails such answers: the plugin should have said what went wrong with a
// unified code.
func Untyped(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.untyped
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
	e.untyped = ed.GetUntyped()
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
