package main

import (
	"net/http"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// newAccount checks an instance's settings and returns the exchange with
// its Acme account: where its API is, its key, the outbound client with
// lendgate's TLS policy, timeouts and body-size cap, and Acme's error table.
// Errors name the setting, never its value: a value may be a secret.
func newAccount(settings map[string]string) (*sdk.Exchange, error) {
	base, err := sdk.BaseURL(settings, "base_url") // https only, unless allow_insecure_http
	if err != nil {
		return nil, err
	}
	key := settings["api_key"]
	if key == "" {
		return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", "api_key")
	}
	return &sdk.Exchange{
		Name:    "Acme",
		Client:  sdk.HTTPClient(settings),
		Base:    base,
		Header:  http.Header{"Authorization": {"Bearer " + key}},
		Secrets: []string{key}, // never in a message, whatever Acme echoes
		Errors:  acmeErrors,
	}, nil
}

// acmeErrors maps Acme's error answers ({"error": CODE, "message": …}) onto
// lendgate's unified codes. An answer it does not list is a provider_error,
// except a 429 (try_later, the whole instance paused for Retry-After) and a
// 401 (provider_credentials).
var acmeErrors = sdk.ErrorTable{
	Codes: map[string]sdk.Code{
		"BAD_REQUEST":      sdk.CodeInvalidRequest,
		"BAD_KEY":          sdk.CodeProviderCredentials,
		"NOT_IN_CATALOGUE": sdk.CodeItemNotFound,
		"NO_COPIES":        sdk.CodeNotAvailable,
		"READER_LIMIT":     sdk.CodeLimitReached,
		"NO_SUCH_LOAN":     sdk.CodeLoanNotFound,
		"NOT_RELEASED":     sdk.CodeTryLater,
		"SLOW_DOWN":        sdk.CodeTryLater,
		"MAINTENANCE":      sdk.CodeTryLater,
	},
	// A title not out yet is about that title: its Retry-After must not
	// pause every other loan of the instance.
	PerRequest: []string{"NOT_RELEASED"},
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
)
