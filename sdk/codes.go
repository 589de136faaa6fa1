package sdk

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// CodeInfo is what the lending API says about one unified code (api.md §3):
// its HTTP status and title, whether a caller may retry the same request as
// it is, and whether a provider instance's circuit breaker counts it as a
// failure of the distributor.
type CodeInfo struct {
	Status    int
	Title     string
	Retryable bool
	// Breaker is true for the codes that count towards tripping an
	// instance's circuit breaker.
	Breaker bool

	grpc codes.Code
}

// codeTable is the one table every classifier in sdk and host reads.
var codeTable = map[Code]CodeInfo{
	CodeInvalidRequest:         {400, "Invalid request", false, false, codes.InvalidArgument},
	CodeUnauthorized:           {401, "Unauthorized", false, false, codes.Unauthenticated},
	CodeForbidden:              {403, "Forbidden", false, false, codes.PermissionDenied},
	CodeProviderNotFound:       {404, "Provider not found", false, false, codes.NotFound},
	CodeLoanNotFound:           {404, "Loan not found", false, false, codes.NotFound},
	CodeItemNotFound:           {404, "Item not found", false, false, codes.NotFound},
	CodeNotAvailable:           {409, "Item not available", false, false, codes.FailedPrecondition},
	CodeAlreadyOnLoan:          {409, "Already on loan", false, false, codes.AlreadyExists},
	CodeDuplicateReference:     {409, "Duplicate reference", false, false, codes.AlreadyExists},
	CodeLimitReached:           {409, "Limit reached", false, false, codes.ResourceExhausted},
	CodePatronMismatch:         {409, "Patron mismatch", false, false, codes.FailedPrecondition},
	CodePatronRejected:         {403, "Patron rejected", false, false, codes.PermissionDenied},
	CodeUnsupportedCombination: {422, "Unsupported combination", false, false, codes.InvalidArgument},
	CodeIdempotencyMismatch:    {422, "Idempotency key reused", false, false, codes.InvalidArgument},
	CodeUnsupportedOperation:   {501, "Unsupported operation", false, false, codes.Unimplemented},
	CodeRateLimited:            {429, "Rate limited", true, false, codes.ResourceExhausted},
	CodeTryLater:               {503, "Try later", true, false, codes.Unavailable},
	CodeCircuitOpen:            {503, "Circuit open", true, false, codes.Unavailable},
	CodePluginUnavailable:      {503, "Plugin unavailable", true, true, codes.Unavailable},
	CodeProviderCredentials:    {502, "Provider rejected our credentials", false, true, codes.Unauthenticated},
	CodeProviderError:          {502, "Provider error", true, true, codes.Internal},
	CodeProviderTimeout:        {504, "Provider timeout", true, true, codes.DeadlineExceeded},
	CodeJournalUnavailable:     {503, "Journal unavailable", true, false, codes.Unavailable},
	CodeOutcomeUnknown:         {409, "Outcome unknown", false, false, codes.FailedPrecondition},
}

// unknownCode is what an unknown code reads as: a distributor failure.
var unknownCode = CodeInfo{http.StatusBadGateway, "Provider error", true, true, codes.Unknown}

// Info returns what the API says about c; an unknown code reads as
// CodeProviderError does.
func (c Code) Info() CodeInfo {
	if i, ok := codeTable[c]; ok {
		return i
	}
	return unknownCode
}

// Known reports whether c is one of the unified codes.
func (c Code) Known() bool {
	_, ok := codeTable[c]
	return ok
}

// Status is c's HTTP status.
func (c Code) Status() int { return c.Info().Status }

// Retryable reports whether the same request may be sent again as it is.
func (c Code) Retryable() bool { return c.Info().Retryable }

// CountsForBreaker reports whether an instance's breaker counts c as a
// failure of the distributor.
func (c Code) CountsForBreaker() bool { return c.Info().Breaker }

// HostOnly reports whether c is the host's to say, never a plugin's: a
// plugin answering "unauthorized" would otherwise tell the ILS that its own
// API key is wrong.
func (c Code) HostOnly() bool {
	switch c {
	case CodeUnauthorized, CodeForbidden, CodeProviderNotFound, CodeIdempotencyMismatch, CodeRateLimited,
		CodeCircuitOpen, CodePluginUnavailable, CodeJournalUnavailable, CodeOutcomeUnknown:
		return true
	}
	return false
}
