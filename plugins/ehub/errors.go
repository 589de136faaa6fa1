package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
)

// unifiedCode is eHUB's error table (providers.md, "Axiell eHUB"), in one
// place. ok is false for codes the table does not know.
func unifiedCode(ehubCode string) (code sdk.Code, ok bool) {
	switch ehubCode {
	case "ALREADY_ON_LOAN":
		return sdk.CodeAlreadyOnLoan, true
	case "INVALID_CONTENT_PROVIDER_RECORD_ID":
		return sdk.CodeItemNotFound, true
	case "PRODUCT_INACTIVE", "PRODUCT_UNAVAILABLE", "MISSING_CONTENT_IN_LOAN":
		return sdk.CodeNotAvailable, true
	case "BORROWER_LIMIT_REACHED", "LIBRARY_LIMIT_REACHED", "MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED":
		return sdk.CodeLimitReached, true
	case "INVALID_FORMAT_ID", "INVALID_REGION_ID":
		return sdk.CodeInvalidRequest, true
	case "CHECKOUT_NOT_FOUND", "INVALID_LOAN_ID", "INACTIVE_LOAN":
		return sdk.CodeLoanNotFound, true
	case "INVALID_PATRON":
		return sdk.CodePatronRejected, true
	case "CREATE_LOAN_FAILED":
		// Listed so that it is on record; it means the same as any
		// unknown code.
		return sdk.CodeProviderError, true
	}
	return sdk.CodeProviderError, false
}

// errorBody is eHUB's error answer.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// maxMessage bounds how much of eHUB's own message is passed on.
const maxMessage = 300

// replyError turns an answer with status > 399 into the unified error. A
// code from the table decides first, whatever the status; without one, the
// status does: 429 is try_later, 401/403 mean eHUB refused our credentials,
// anything else is the distributor failing.
func replyError(rep reply, now time.Time) *sdk.Error {
	var eb errorBody
	// An unreadable body is not an error of its own: the status still
	// says enough.
	_ = json.Unmarshal(rep.body, &eb)
	pc := cleanText(eb.Code, 100)
	msg := cleanText(eb.Message, maxMessage)

	if code, ok := unifiedCode(pc); ok {
		if msg == "" {
			msg = "eHUB answered " + pc
		}
		return (&sdk.Error{Code: code, Message: msg}).WithProviderCode(pc)
	}
	describe := func(fallback string) string {
		switch {
		case msg != "":
			return msg
		case pc != "":
			return fmt.Sprintf("eHUB answered %s (HTTP %d)", pc, rep.status)
		}
		return fallback
	}
	var e *sdk.Error
	switch {
	case rep.status == http.StatusTooManyRequests:
		e = sdk.Errorf(sdk.CodeTryLater, "%s", describe("eHUB asked to slow down (HTTP 429)")).
			WithRetryAfter(sdk.RetryAfter(rep.header, now))
	case rep.status == http.StatusUnauthorized || rep.status == http.StatusForbidden:
		e = sdk.Errorf(sdk.CodeProviderCredentials, "eHUB refused the instance's api key (HTTP %d)", rep.status)
	default:
		e = sdk.Errorf(sdk.CodeProviderError, "%s", describe(fmt.Sprintf("HTTP %d", rep.status)))
	}
	return e.WithProviderCode(pc)
}

// cleanText makes distributor text safe to pass on: no control characters
// (they would forge log lines), trimmed, at most max bytes on a rune
// boundary.
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
