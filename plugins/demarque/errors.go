package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/lendgate/lendgate/sdk"
)

// This file is the one place that knows how the warehouse encodes its
// answers. The seeds document status codes and error strings but not the
// bodies, so both encodings are **assumed** (see README.md):
//
//   - success (lending and downloads): 200 with JSON {"url": "…"};
//   - failure: the status with JSON {"error": "access_denied", "message": "…"}.

// errorTable is the mapping of providers.md §De Marque (errors 2.3), plus
// the simulator's own error strings for what the seeds leave undocumented
// (marked assumed). A 401 is our credentials refused whatever its string, a
// 429 try_later (the whole instance pauses for its Retry-After); any other
// answer is a provider_error that keeps the warehouse's string, a 503 too,
// Retry-After or not (OnlyTryLaterPauses).
var errorTable = sdk.ErrorTable{
	Decode:             decodeError,
	OnlyTryLaterPauses: true,
	Codes: map[string]sdk.Code{
		"missing_transaction_id": sdk.CodeInvalidRequest,
		// Assumed: the simulator's lending validation errors. They mean our
		// own validation let something through, so they are invalid
		// requests.
		"missing_borrower_id": sdk.CodeInvalidRequest,
		"invalid_expire_at":   sdk.CodeInvalidRequest,
		"not_found":           sdk.CodeProviderCredentials, // our organisation
		// Assumed: the simulator's answers for an unknown loan or
		// publication.
		"loan_not_found":        sdk.CodeLoanNotFound,
		"publication_not_found": sdk.CodeItemNotFound,
	},
	Statuses: map[int]sdk.Code{
		http.StatusUnauthorized:       sdk.CodeProviderCredentials,
		http.StatusServiceUnavailable: sdk.CodeProviderError,
	},
}

// errorTexts say what the warehouse's strings mean. Nothing else of an
// error answer (free text, markup, its message) is ever passed on.
var errorTexts = map[string]string{
	"missing_transaction_id": "the warehouse says the transaction id is missing",
	"missing_borrower_id":    "the warehouse says the borrower id is missing",
	"invalid_expire_at":      "the warehouse refused the loan's expiry date",
	"access_denied":          "the warehouse refused our credentials",
	"not_found":              "the warehouse does not know our organisation",
	"loan_not_found":         "the warehouse has no such loan for this borrower",
	"publication_not_found":  "the warehouse does not know this publication (check the ISBN: one ISBN per format)",
	"too_many_requests":      "the warehouse asks us to come back later",
}

// decodeError reads the warehouse's error string out of an error answer,
// only when it looks like one (errorString), and gives our own text for it,
// never the warehouse's message.
func decodeError(body []byte) (providerCode, message string) {
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &eb) != nil || !errorString.MatchString(eb.Error) {
		return "", ""
	}
	return eb.Error, errorTexts[eb.Error]
}

// errorString is what a warehouse error string must look like to be passed
// on as provider_code: a short token.
var errorString = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func httpCode(status int) string { return fmt.Sprintf("HTTP %d", status) }

// absoluteURL reports whether s is an absolute http(s) URL, the only kind of
// link worth handing to a reader.
func absoluteURL(s string) bool {
	if s == "" {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// inContext prefixes e's message with the operation and format, so that every
// error's detail names the format (one ISBN per format is a common mistake),
// and logs the warehouse telling us our own request was invalid: that is a
// gap in our local validation.
func (p *provider) inContext(e *sdk.Error, op, instance, format string) *sdk.Error {
	if e == nil {
		return nil
	}
	if e.Code == sdk.CodeInvalidRequest && e.ProviderCode != "" {
		p.logger().Error("the warehouse refused a request our validation let through", "op", op, "instance", instance, "format", format, "provider_code", e.ProviderCode)
	}
	e.Message = fmt.Sprintf("%s (%s): %s", op, format, e.Message)
	return e
}
