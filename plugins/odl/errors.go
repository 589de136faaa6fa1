package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// Problem types of ODL 1.0 (§5.4) and LSD 1.0 (§3): RFC 7807 problem
// documents, mapped by their type, never by their status (servers differ:
// checkout/unavailable comes as 403, as the spec says, or as 400).
const (
	typeODLError       = "http://opds-spec.org/odl/error"
	typeCheckoutPrefix = "http://opds-spec.org/odl/error/checkout/"
	typeUnavailable    = typeCheckoutPrefix + "unavailable"
	typeExpired        = typeCheckoutPrefix + "expired"

	typeLSDPrefix     = "http://readium.org/license-status-document/error/"
	typeServer        = typeLSDPrefix + "server"
	typeReturn        = typeLSDPrefix + "return"
	typeReturnAlready = typeLSDPrefix + "return/already"
	typeReturnExpired = typeLSDPrefix + "return/expired"
	typeRenew         = typeLSDPrefix + "renew"
	typeRenewDate     = typeLSDPrefix + "renew/date"
	typeRegistration  = typeLSDPrefix + "registration"
)

// checkoutVariables are the borrow template's variables, each with a 400
// problem type of its own (…/checkout/<variable>).
var checkoutVariables = []string{"id", "checkout_id", "patron_id", "expires", "notification_url", "passphrase", "hint", "hint_url"}

// errorTable maps the distributor's problem types onto unified codes
// (README.md "Errors"). A type not in it leaves the status to decide: 401
// and 403 are our credentials refused, 429 try_later (the whole instance
// pauses for its Retry-After), anything else provider_error (a 503 too,
// Retry-After or not: OnlyTryLaterPauses).
var errorTable = func() sdk.ErrorTable {
	t := sdk.ErrorTable{
		Decode:             decodeProblem,
		OnlyTryLaterPauses: true,
		Codes: map[string]sdk.Code{
			// No copy free or no checkout left; the licence has ended.
			// Checkout tries the next licence on either.
			typeUnavailable: sdk.CodeNotAvailable,
			typeExpired:     sdk.CodeNotAvailable,
			// The loan is no longer one to return.
			typeReturnAlready: sdk.CodeLoanNotFound,
			typeReturnExpired: sdk.CodeLoanNotFound,
			// The distributor will not extend the loan (past its latest
			// end, or not renewable).
			typeRenew:     sdk.CodeNotAvailable,
			typeRenewDate: sdk.CodeNotAvailable,
			// "Could not be returned properly", a server error, a failed
			// registration and the generic ODL error are left out: they
			// are provider_error by default, and as 5xx answers they say
			// nothing of whether the request was carried out (the
			// Exchange makes them unknown outcomes; a listed code would
			// make them definitive). Their type stays the provider code.
		},
		Statuses: map[int]sdk.Code{
			http.StatusUnauthorized:       sdk.CodeProviderCredentials,
			http.StatusForbidden:          sdk.CodeProviderCredentials,
			http.StatusServiceUnavailable: sdk.CodeProviderError,
		},
	}
	for _, v := range checkoutVariables {
		// The distributor refused a variable we filled: our request was
		// invalid (and our local checks missed it: logged at error level).
		t.Codes[typeCheckoutPrefix+v] = sdk.CodeInvalidRequest
	}
	return t
}()

// lsdErrors is errorTable for License Status Documents and LCP licences,
// where a 404 or 410 means the loan is gone.
var lsdErrors = func() sdk.ErrorTable {
	t := errorTable
	t.Statuses = map[int]sdk.Code{
		http.StatusNotFound: sdk.CodeLoanNotFound,
		http.StatusGone:     sdk.CodeLoanNotFound,
	}
	for k, v := range errorTable.Statuses {
		t.Statuses[k] = v
	}
	return t
}()

// decodeProblem reads an RFC 7807 problem: its type is the provider code
// ("about:blank" and an absent type are none, and the status decides), its
// title and detail the message. A body that is JSON but no problem falls
// back to the SDK's reading ("code", "message").
func decodeProblem(body []byte) (providerCode, message string) {
	var p struct {
		Type   any `json:"type"`
		Title  any `json:"title"`
		Detail any `json:"detail"`
	}
	if json.Unmarshal(body, &p) != nil {
		return "", ""
	}
	str := func(v any) string { s, _ := v.(string); return strings.TrimSpace(s) }
	typ, title, detail := str(p.Type), str(p.Title), str(p.Detail)
	if typ == "" && title == "" && detail == "" {
		return sdk.DecodeJSONError(body)
	}
	if typ == "about:blank" {
		typ = ""
	}
	switch {
	case title != "" && detail != "":
		message = title + ": " + detail
	default:
		message = title + detail
	}
	return typ, message
}

// isCheckoutVariable reports whether e is the distributor refusing one of
// the borrow template's variables.
func isCheckoutVariable(e *sdk.Error) bool {
	v, ok := strings.CutPrefix(e.ProviderCode, typeCheckoutPrefix)
	if !ok {
		return false
	}
	for _, x := range checkoutVariables {
		if v == x {
			return true
		}
	}
	return false
}

// unknownAfter marks e, made by the plugin after its request was sent (an
// answer it could not use), as of unknown outcome: the distributor may
// have acted.
func unknownAfter(e *sdk.Error) *sdk.Error { return e.WithOutcome(sdk.OutcomeUnknown) }

func httpCode(status int) string { return fmt.Sprintf("HTTP %d", status) }
