package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// account is one Acme account: where its API is, its key, and the outbound
// client with lendgate's TLS policy, timeouts and body-size cap.
type account struct {
	base   *url.URL
	apiKey string
	client *http.Client
}

// newAccount checks an instance's settings. Errors name the setting, never
// its value: a value may be a secret.
func newAccount(settings map[string]string) (*account, error) {
	base, err := sdk.BaseURL(settings, "base_url") // https only, unless allow_insecure_http
	if err != nil {
		return nil, err
	}
	if settings["api_key"] == "" {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", "api_key")
	}
	return &account{base: base, apiKey: settings["api_key"], client: sdk.HTTPClient(settings)}, nil
}

// The bodies of Acme's API.
type (
	loanRequest struct {
		ISBN   string `json:"isbn"`
		Reader string `json:"reader"`
		Days   int    `json:"days,omitempty"`
	}
	loanAnswer struct {
		LoanID      string    `json:"loan_id"`
		DownloadURL string    `json:"download_url"`
		Expires     time.Time `json:"expires"`
	}
	linkAnswer struct {
		DownloadURL string    `json:"download_url"`
		Expires     time.Time `json:"expires"`
	}
	errorAnswer struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
)

// errorCodes maps Acme's error codes onto lendgate's unified codes. Anything
// else is a provider_error.
var errorCodes = map[string]sdk.Code{
	"BAD_REQUEST":      sdk.CodeInvalidRequest,
	"BAD_KEY":          sdk.CodeProviderCredentials,
	"NOT_IN_CATALOGUE": sdk.CodeItemNotFound,
	"NO_COPIES":        sdk.CodeNotAvailable,
	"READER_LIMIT":     sdk.CodeLimitReached,
	"NO_SUCH_LOAN":     sdk.CodeLoanNotFound,
	"MAINTENANCE":      sdk.CodeTryLater,
}

// call sends body (if any) as JSON to path and decodes a 2xx answer into
// out; any other answer becomes an *sdk.Error with Acme's code kept as the
// provider code.
func (a *account) call(ctx context.Context, method, path string, body, out any) error {
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return sdk.Errorf(sdk.CodeInvalidRequest, "encoding the request: %v", err)
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.JoinPath(path).String(), payload)
	if err != nil {
		return sdk.Errorf(sdk.CodeInvalidRequest, "building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return sdk.TransportError(ctx, err) // a deadline becomes provider_timeout
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return sdk.TransportError(ctx, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if err := json.Unmarshal(raw, out); err != nil {
			return sdk.Errorf(sdk.CodeProviderError, "Acme's answer is unreadable")
		}
		return nil
	}
	return answerError(resp.StatusCode, resp.Header, raw)
}

// answerError turns an error answer into the unified code.
func answerError(status int, header http.Header, raw []byte) *sdk.Error {
	var ea errorAnswer
	_ = json.Unmarshal(raw, &ea) // an unreadable body keeps the HTTP status only
	providerCode := ea.Error
	if providerCode == "" {
		providerCode = fmt.Sprintf("HTTP %d", status)
	}
	code, ok := errorCodes[ea.Error]
	if !ok {
		code = sdk.CodeProviderError
	}
	e := sdk.Errorf(code, "Acme answered %d %s", status, providerCode).WithProviderCode(providerCode)
	if code == sdk.CodeTryLater {
		e.WithRetryAfter(sdk.RetryAfter(header, time.Now()))
	}
	return e
}
