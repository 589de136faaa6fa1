package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
)

// errorTable is eHUB's error table (providers.md, "Axiell eHUB"). A code it
// lists decides whatever the status; without one, 401 and 403 mean eHUB
// refused our api key, 429 is try_later (the whole instance pauses for its
// Retry-After), anything else is a provider_error that keeps eHUB's code, a
// 503 too, Retry-After or not (OnlyTryLaterPauses).
var errorTable = sdk.ErrorTable{
	Decode:             decodeError,
	OnlyTryLaterPauses: true,
	Codes: map[string]sdk.Code{
		"ALREADY_ON_LOAN":                         sdk.CodeAlreadyOnLoan,
		"INVALID_CONTENT_PROVIDER_RECORD_ID":      sdk.CodeItemNotFound,
		"PRODUCT_INACTIVE":                        sdk.CodeNotAvailable,
		"PRODUCT_UNAVAILABLE":                     sdk.CodeNotAvailable,
		"MISSING_CONTENT_IN_LOAN":                 sdk.CodeNotAvailable,
		"BORROWER_LIMIT_REACHED":                  sdk.CodeLimitReached,
		"LIBRARY_LIMIT_REACHED":                   sdk.CodeLimitReached,
		"MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED": sdk.CodeLimitReached,
		"INVALID_FORMAT_ID":                       sdk.CodeInvalidRequest,
		"INVALID_REGION_ID":                       sdk.CodeInvalidRequest,
		"CHECKOUT_NOT_FOUND":                      sdk.CodeLoanNotFound,
		"INVALID_LOAN_ID":                         sdk.CodeLoanNotFound,
		"INACTIVE_LOAN":                           sdk.CodeLoanNotFound,
		"INVALID_PATRON":                          sdk.CodePatronRejected,
		// Listed so that it is on record; it means the same as any
		// unknown code.
		"CREATE_LOAN_FAILED": sdk.CodeProviderError,
	},
	Statuses: map[int]sdk.Code{
		http.StatusUnauthorized:       sdk.CodeProviderCredentials,
		http.StatusForbidden:          sdk.CodeProviderCredentials,
		http.StatusServiceUnavailable: sdk.CodeProviderError,
	},
}

// decodeError reads eHUB's error answer, {"code": …, "message": …}. An
// unreadable body gives nothing: the status still says enough.
func decodeError(body []byte) (providerCode, message string) {
	var eb struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &eb)
	return eb.Code, eb.Message
}

// cleanText makes distributor text safe to log: no control characters (they
// would forge log lines), trimmed, at most max bytes on a rune boundary.
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
