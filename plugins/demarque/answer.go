package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// This file is the one place that knows how the warehouse encodes its
// answers. The seeds document status codes and error strings but not the
// bodies, so both encodings are **assumed** (see README.md):
//
//   - success (lending and downloads): 200 with JSON {"url": "…"};
//   - failure: the status with JSON {"error": "access_denied", "message": "…"}.

// answerBody is the assumed success body.
type answerBody struct {
	URL string `json:"url"`
}

// errorBody is the assumed failure body.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// errorRow maps one distributor answer onto a unified code. An empty
// providerCode matches any error string for that status.
type errorRow struct {
	status       int
	providerCode string
	code         sdk.Code
	message      string
}

// errorTable is the mapping of providers.md §De Marque (errors 2.3), plus
// the simulator's own error strings for what the seeds leave undocumented
// (marked assumed). Rows are tried in order; the first match wins.
var errorTable = []errorRow{
	{http.StatusBadRequest, "missing_transaction_id", sdk.CodeInvalidRequest, "the warehouse says the transaction id is missing"},
	// Assumed: the simulator's lending validation errors. They mean our own
	// validation let something through, so they are invalid requests.
	{http.StatusBadRequest, "missing_borrower_id", sdk.CodeInvalidRequest, "the warehouse says the borrower id is missing"},
	{http.StatusBadRequest, "invalid_expire_at", sdk.CodeInvalidRequest, "the warehouse refused the loan's expiry date"},
	{http.StatusUnauthorized, "", sdk.CodeProviderCredentials, "the warehouse refused our credentials"},
	{http.StatusNotFound, "not_found", sdk.CodeProviderCredentials, "the warehouse does not know our organisation"},
	// Assumed: the simulator's answers for an unknown loan or publication.
	{http.StatusNotFound, "loan_not_found", sdk.CodeLoanNotFound, "the warehouse has no such loan for this borrower"},
	{http.StatusNotFound, "publication_not_found", sdk.CodeItemNotFound, "the warehouse does not know this publication (check the ISBN: one ISBN per format)"},
	{http.StatusTooManyRequests, "", sdk.CodeTryLater, "the warehouse asks us to come back later"},
}

// classify finds the unified code for a failed answer: the table first, then
// any other 4xx or 5xx (or a status the warehouse does not use) is a
// provider_error.
func classify(status int, providerCode string) (sdk.Code, string) {
	for _, r := range errorTable {
		if r.status == status && (r.providerCode == "" || r.providerCode == providerCode) {
			return r.code, r.message
		}
	}
	if status >= 500 && status <= 599 {
		return sdk.CodeProviderError, fmt.Sprintf("the warehouse failed (HTTP %d)", status)
	}
	return sdk.CodeProviderError, fmt.Sprintf("the warehouse answered HTTP %d", status)
}

// parseAnswer turns a warehouse answer (status, headers, body) into the URL it
// carries or a unified error. ProviderCode is always set on errors: the
// warehouse's error string, or "HTTP <status>" when there is none. It never
// panics, whatever the input (see FuzzParseAnswer).
func parseAnswer(status int, header http.Header, body []byte, now time.Time) (string, *sdk.Error) {
	if status == http.StatusOK {
		var a answerBody
		if err := json.Unmarshal(body, &a); err != nil {
			return "", sdk.Errorf(sdk.CodeProviderError, "the warehouse's answer is unreadable").WithProviderCode(httpCode(status))
		}
		if !absoluteURL(a.URL) {
			return "", sdk.Errorf(sdk.CodeProviderError, "the warehouse's answer has no usable url").WithProviderCode(httpCode(status))
		}
		return a.URL, nil
	}
	var eb errorBody
	providerCode := httpCode(status)
	if json.Unmarshal(body, &eb) == nil && errorString.MatchString(eb.Error) {
		providerCode = eb.Error
	}
	code, msg := classify(status, providerCode)
	e := sdk.Errorf(code, "%s", msg).WithProviderCode(providerCode)
	if code == sdk.CodeTryLater {
		e.WithRetryAfter(sdk.RetryAfter(header, now))
	}
	return "", e
}

// errorString is what a warehouse error string must look like to be passed
// on as provider_code: a short token. Anything else of the answer body
// (free text, markup, a message) is never reflected to the caller.
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
