package sdk

import (
	"context"
	"errors"
	"time"

	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcCodes gives each unified code the closest gRPC code, so that the status
// reads sensibly in gRPC tooling. The host reads the ErrorDetail, not this.
var grpcCodes = map[Code]codes.Code{
	CodeInvalidRequest:         codes.InvalidArgument,
	CodeUnauthorized:           codes.Unauthenticated,
	CodeForbidden:              codes.PermissionDenied,
	CodeProviderNotFound:       codes.NotFound,
	CodeLoanNotFound:           codes.NotFound,
	CodeItemNotFound:           codes.NotFound,
	CodeNotAvailable:           codes.FailedPrecondition,
	CodeAlreadyOnLoan:          codes.AlreadyExists,
	CodeDuplicateReference:     codes.AlreadyExists,
	CodeLimitReached:           codes.ResourceExhausted,
	CodePatronMismatch:         codes.FailedPrecondition,
	CodePatronRejected:         codes.PermissionDenied,
	CodeUnsupportedCombination: codes.InvalidArgument,
	CodeIdempotencyMismatch:    codes.InvalidArgument,
	CodeUnsupportedOperation:   codes.Unimplemented,
	CodeRateLimited:            codes.ResourceExhausted,
	CodeTryLater:               codes.Unavailable,
	CodeCircuitOpen:            codes.Unavailable,
	CodePluginUnavailable:      codes.Unavailable,
	CodeProviderCredentials:    codes.Unauthenticated,
	CodeProviderError:          codes.Internal,
	CodeProviderTimeout:        codes.DeadlineExceeded,
}

// toStatus turns a plugin's error into the gRPC status that carries it. An
// error that is not an *Error becomes CodeProviderError; an unknown code too,
// keeping the plugin's code as the provider code.
func toStatus(err error) error {
	e := AsError(err)
	if !e.Code.Known() {
		e = &Error{Code: CodeProviderError, ProviderCode: string(e.Code), Message: e.Message, RetryAfter: e.RetryAfter}
	}
	gc, ok := grpcCodes[e.Code]
	if !ok {
		gc = codes.Unknown
	}
	st, derr := status.New(gc, e.Message).WithDetails(&pb.ErrorDetail{
		Code: string(e.Code), ProviderCode: e.ProviderCode, Message: e.Message, RetryAfterMs: e.RetryAfter.Milliseconds(),
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
				return &Error{Code: Code(ed.GetCode()), ProviderCode: ed.GetProviderCode(), Message: ed.GetMessage(),
					RetryAfter: time.Duration(ed.GetRetryAfterMs()) * time.Millisecond}
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
