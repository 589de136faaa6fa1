package sdk

import (
	"errors"
	"log/slog"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus turns a plugin's error into the gRPC status that carries it. An
// unknown code becomes CodeProviderError, keeping the plugin's code as the
// provider code. An error that is not an *Error (a plain fmt.Errorf, an
// http.Client's error with the distributor's URL in it) crosses as a generic
// CodeProviderError marked untyped: its text stays in the plugin's log (on
// log), with URLs redacted, and never reaches the host, a library or the
// conformance kit's report, which names the operation instead.
func toStatus(log *slog.Logger, err error) error {
	var e *Error
	untyped := !errors.As(err, &e)
	if untyped {
		log.Warn("a plugin method returned an error that is not an *sdk.Error; the host sees a generic provider_error. Return sdk.Errorf(sdk.CodeProviderError, …) or another unified code",
			"error", redactURLs(err.Error()))
		e = &Error{Code: CodeProviderError, Message: untypedMessage}
	}
	if !e.Code.Known() {
		e = &Error{Code: CodeProviderError, ProviderCode: string(e.Code), Message: e.Message, RetryAfter: e.RetryAfter, Outcome: e.Outcome}
	}
	st, derr := status.New(e.Code.Info().grpc, e.Message).WithDetails(&pb.ErrorDetail{
		Code: string(e.Code), ProviderCode: e.ProviderCode, Message: e.Message, RetryAfterMs: e.RetryAfter.Milliseconds(),
		Scope: int32(e.Scope), Untyped: untyped, Outcome: int32(e.Outcome),
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
	return errors.Is(err, pb.ErrUntyped)
}

// maxWireProviderCode is how long a provider code may be on the wire: the
// host cuts longer ones, so the Exchange never makes one.
const maxWireProviderCode = 100
