package api

import (
	"encoding/json"
	"time"
)

// Loan statuses. A checkout is pending while its distributor call runs
// (journaled before it), and unknown when the host could not learn its
// outcome (until a resolution or the ILS decides).
const (
	StatusActive   = "active"
	StatusReturned = "returned"
	StatusExpired  = "expired"
	StatusRevoked  = "revoked"
	StatusPending  = "pending"
	StatusUnknown  = "unknown"
)

// Link is one access link.
type Link struct {
	Format    string     `json:"format"`
	Rel       string     `json:"rel"`
	Href      string     `json:"href"`
	Type      string     `json:"type,omitempty"`
	Name      string     `json:"name,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Loan is a loan as the host knows it.
type Loan struct {
	ID          string            `json:"id"`
	Provider    string            `json:"provider"`
	Item        string            `json:"item"`
	Patron      string            `json:"patron"`
	Status      string            `json:"status"`
	Format      string            `json:"format,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	Links       []Link            `json:"links"`
	ProviderRef map[string]string `json:"provider_ref,omitempty"`
}

// Shown is the loan as api.md's Loan shows it. Only an active loan carries
// its links: a returned, expired or revoked one answers "links": [] (a
// distributor's link may still open the book after the loan ended), and
// links are never null. MarshalJSON writes it; the HTTP API's answers
// encode it in one pass (host/internal/httpapi, bodyOf).
func (l Loan) Shown() Loan {
	if l.Status != StatusActive || l.Links == nil {
		l.Links = []Link{}
	}
	return l
}

// MarshalJSON writes the loan as api.md's Loan (Shown).
func (l Loan) MarshalJSON() ([]byte, error) {
	type plain Loan // the same fields, without this method
	return json.Marshal(plain(l.Shown()))
}

// CheckoutRequest asks to lend an item to a patron (api.md "Checkout request").
type CheckoutRequest struct {
	Item       string            `json:"item"`
	Patron     string            `json:"patron"`
	PatronName string            `json:"patron_name,omitempty"`
	Format     string            `json:"format,omitempty"`
	Days       int               `json:"days,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	// IdempotencyKey makes retries safe: the same key and request return the
	// first answer without reaching the distributor again.
	IdempotencyKey string `json:"-"`
}

// FulfillRequest asks for fresh links, optionally in one format.
type FulfillRequest struct {
	Format string `json:"format,omitempty"`
}

// Fulfillment is a set of fresh links, plus a signed redirect URL for
// browsers (api.md §4).
type Fulfillment struct {
	Loan     string `json:"loan,omitempty"`
	Links    []Link `json:"links"`
	Redirect string `json:"redirect,omitempty"`
}

// RenewRequest extends a loan by Days.
type RenewRequest struct {
	Days int `json:"days"`
	// Patron, when set, must be the loan's patron (patron_mismatch otherwise).
	Patron         string `json:"patron,omitempty"`
	IdempotencyKey string `json:"-"`
}

// DownloadRequest asks for a download link of a purchased publication.
type DownloadRequest struct {
	Customer    string `json:"customer"`
	Transaction string `json:"transaction"`
	Item        string `json:"item"`
	Format      string `json:"format"`
	PatronName  string `json:"patron_name"`
}

// AccessCheckRequest asks whether a patron has access to an item. Password is
// passed to the distributor and never logged or stored.
type AccessCheckRequest struct {
	Item     string `json:"item"`
	Patron   string `json:"patron"`
	Password string `json:"password,omitempty"`
}

// AccessCheck is the answer to an access check.
type AccessCheck struct {
	Access bool `json:"access"`
}

// Event is one loan event (api.md §5).
type Event struct {
	ID       string            `json:"id"`
	Cursor   string            `json:"cursor"`
	Type     string            `json:"type"`
	Provider string            `json:"provider"`
	Loan     string            `json:"loan"`
	Patron   string            `json:"patron"`
	Item     string            `json:"item"`
	At       time.Time         `json:"at"`
	Data     map[string]string `json:"data"`
}

// EventPage is a page of the event log.
type EventPage struct {
	Events []Event `json:"events"`
	Next   string  `json:"next"`
}

// Provider describes a provider instance (api.md "Provider").
type Provider struct {
	Name         string              `json:"name"`
	Plugin       PluginStatus        `json:"plugin"`
	Capabilities []string            `json:"capabilities"`
	Formats      []string            `json:"formats"`
	Options      map[string][]string `json:"options"`
	Breaker      BreakerStatus       `json:"breaker"`
	Rate         RateStatus          `json:"rate"`
	Timeout      string              `json:"timeout"`
	Health       string              `json:"health"`
	Error        string              `json:"error,omitempty"` // why this instance does not serve
}

// PluginStatus is the plugin serving a provider instance.
type PluginStatus struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	SHA256   string `json:"sha256"`
	Pinned   bool   `json:"pinned"`
	PID      int    `json:"pid"`
	Up       bool   `json:"up"`
	Restarts int    `json:"restarts"`
	Error    string `json:"error,omitempty"`
}

// BreakerStatus is an instance's circuit breaker.
type BreakerStatus struct {
	State    string `json:"state"`
	Failures uint32 `json:"failures"`
}

// RateStatus is an instance's limiter settings.
type RateStatus struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
	MaxWait   string  `json:"max_wait"`
}

// ReloadRequest asks to hot-swap a plugin to the binary now at its
// configured path, pinned by SHA256 when given (else by the configured pin).
// The path changes only through the configuration (Host.ReloadConfig).
type ReloadRequest struct {
	SHA256 string `json:"sha256,omitempty"`
}

// ReloadResult tells what a swap replaced.
type ReloadResult struct {
	Plugin string        `json:"plugin"`
	Old    PluginVersion `json:"old"`
	New    PluginVersion `json:"new"`
}

// PluginVersion identifies one build of a plugin.
type PluginVersion struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	PID     int    `json:"pid"`
}

// LoanError is an error about one loan that the caller must be able to
// name: outcome_unknown carries the loan id the Idempotency-Key reserved,
// and journal_unavailable after the distributor answered carries the loan
// that is (or will be) listed as unknown. Its code is the wrapped error's;
// the HTTP problem shows Loan as its "loan" member.
//
//	var le *api.LoanError
//	if errors.As(err, &le) { … le.Loan … }
type LoanError struct {
	Loan string
	Err  error
}

func (e *LoanError) Error() string { return e.Err.Error() + " (loan " + e.Loan + ")" }

// Unwrap returns the wrapped error, so that sdk.CodeOf and errors.As(…,
// *sdk.Error) see its code.
func (e *LoanError) Unwrap() error { return e.Err }

// Problem is an RFC 9457 problem details body, every error's HTTP form.
type Problem struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Status       int    `json:"status"`
	Detail       string `json:"detail,omitempty"`
	Code         string `json:"code"`
	Provider     string `json:"provider,omitempty"`
	ProviderCode string `json:"provider_code,omitempty"`
	Retryable    bool   `json:"retryable"`
	// RetryAfter is in seconds, as in the Retry-After header.
	RetryAfter int `json:"retry_after,omitempty"`
	// Loan names the loan concerned (outcome_unknown: the reserved loan id).
	Loan string `json:"loan,omitempty"`
}

// WebhookStatus is one endpoint as GET /v1/admin/webhooks shows it.
type WebhookStatus struct {
	// Name is the endpoint's configured name (webhook-N by default); the
	// URL is never shown (its path may carry a receiver's token).
	Name   string   `json:"name"`
	Events []string `json:"events"`
	// Concurrency is how many deliveries may be in flight at once.
	Concurrency int `json:"concurrency"`
	// Cursor is the end of the prefix of the log delivered or given up.
	Cursor string `json:"cursor"`
	// Queued counts the matching events after Cursor (reading at most
	// 10000 events of the log); QueuedCapped says the count stopped there.
	Queued       int  `json:"queued"`
	QueuedCapped bool `json:"queued_capped"`
	// LastSuccess is the last delivery; FailingSince the first failed
	// attempt since then (null when the endpoint is not failing).
	LastSuccess  *time.Time `json:"last_success"`
	FailingSince *time.Time `json:"failing_since"`
	// Attempts counts the failed attempts since the last delivery;
	// LastError is the kind of the last failure ("status", "timeout",
	// "connection") and LastStatus its HTTP status, if any.
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error,omitempty"`
	LastStatus int    `json:"last_status,omitempty"`
	// GivenUp counts the events given up after failing for 3 days.
	GivenUp int64 `json:"given_up"`
}

// Size limits of what a caller sends.
const (
	// MaxBodyBytes is the limit of an API request body.
	MaxBodyBytes = 1 << 20
	// MaxNotificationBytes is the limit of a distributor's callback body.
	MaxNotificationBytes = 64 << 10
)
