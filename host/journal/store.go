package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by a Store for a loan or key it does not hold.
var ErrNotFound = errors.New("not found")

// Store is the host's journal: loans, loan events and idempotency records.
// Implementations must be safe for concurrent use (by several host
// processes, for a shared store) and must not lose a write they
// acknowledged. The behavioural suite in host/storetest runs against every
// driver.
type Store interface {
	// PutLoan creates or replaces a loan record.
	PutLoan(ctx context.Context, r LoanRecord) error
	// DeleteLoan removes a loan record (a pending checkout that the
	// distributor refused); deleting a missing one is not an error.
	DeleteLoan(ctx context.Context, provider, id string) error
	// Loan returns one loan record, or ErrNotFound.
	Loan(ctx context.Context, provider, id string) (LoanRecord, error)
	// PatronLoans returns a patron's loans at a provider, oldest first.
	PatronLoans(ctx context.Context, provider, patron string) ([]LoanRecord, error)
	// LoansByStatus returns up to limit loans in a status at a provider (""
	// for every provider), oldest first.
	LoansByStatus(ctx context.Context, provider, status string, limit int) ([]LoanRecord, error)
	// ExpiredLoans returns up to limit active loans whose expiry is before t.
	ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]LoanRecord, error)
	// Apply writes r and appends e in one transaction, assigning e's ID and
	// Cursor. When dedupeKey is non-empty and was applied before, it writes
	// nothing and returns the earlier event and false.
	Apply(ctx context.Context, r LoanRecord, e Event, dedupeKey string) (Event, bool, error)
	// Events returns up to limit events after the cursor ("": from the
	// start), oldest first.
	Events(ctx context.Context, after string, limit int) ([]Event, error)

	// ClaimIdempotency records that a request with r's scope and key has
	// started (r.Status 0). If a record exists it is returned with false,
	// unless it is still in progress and its UpdatedAt is before staleBefore
	// (its owner stopped beating, or parked it): then the claim takes it
	// over, keeping its Ref and every other field but UpdatedAt, and returns
	// the taken-over record with true.
	ClaimIdempotency(ctx context.Context, r IdempotencyRecord, staleBefore time.Time) (IdempotencyRecord, bool, error)
	// CompleteIdempotency stores r as the record of a claimed key: its
	// outcome (Status, Body), or, with Status 0, the claim parked (see
	// IdempotencyRecord.Unknown).
	CompleteIdempotency(ctx context.Context, r IdempotencyRecord) error
	// RefreshIdempotency is a claim's heartbeat: it moves the UpdatedAt of
	// an in-progress record to at and reports true, or reports false when
	// the key is not in progress (completed, released or purged).
	RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error)
	// ReleaseIdempotency deletes an in-progress claim whose outcome is not
	// kept, so that a retry runs again.
	ReleaseIdempotency(ctx context.Context, scope, key string) error
	// Idempotency returns the record for a key, or ErrNotFound.
	Idempotency(ctx context.Context, scope, key string) (IdempotencyRecord, error)
	// PurgeIdempotency deletes the records created before t that are
	// completed, or in progress with an UpdatedAt before t too (an owner
	// that stopped beating, a parked claim): a key expires whatever its
	// outcome.
	PurgeIdempotency(ctx context.Context, t time.Time) (int, error)

	// Close releases the store.
	Close() error
}

// LoanRecord is the journal's copy of a loan: the public Loan plus what the
// host needs to act on it later.
type LoanRecord struct {
	Loan Loan `json:"loan"`
	// PatronKey is what the distributor knows of the patron (a pseudonym
	// unless the instance sends patron ids).
	PatronKey  string            `json:"patron_key"`
	PatronName string            `json:"patron_name,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	// Days is the loan length the checkout asked for, for a resolution
	// that places the order again (sdk.ResolveRequest.Days) and for the
	// expiry of a loan whose distributor did not tell it.
	Days int `json:"days,omitempty"`
}

// IdempotencyRecord is a request made with an Idempotency-Key: in progress
// (Status 0) or its first answer.
type IdempotencyRecord struct {
	Scope       string `json:"scope"`
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	// Ref is what the first attempt reserved (the loan id), so that a
	// retry after a crash reuses it and the distributor sees one order.
	Ref    string `json:"ref,omitempty"`
	Status int    `json:"status"`
	Body   []byte `json:"body,omitempty"`
	// Unknown marks a claim whose call may have reached the distributor
	// without the host learning the outcome (a timeout, a plugin dying
	// mid-call, a journal write failing after the answer). Such a claim is
	// kept, with its Ref, until the key expires: it is parked (Status 0,
	// UpdatedAt at the Unix epoch, so that the next retry takes it over at
	// once) and a retry re-sends only where the distributor deduplicates
	// by Ref, otherwise it answers outcome_unknown.
	Unknown bool `json:"unknown,omitempty"`
	// CreatedAt is when the key was first claimed; UpdatedAt is its owner's
	// heartbeat while in progress, then when the outcome was stored.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// formatCursor renders an event sequence number as a cursor that sorts as
// text in the same order as the numbers.
func formatCursor(seq uint64) string {
	var b [20]byte
	d := strconv.AppendUint(b[:0], seq, 10)
	if len(d) >= 16 {
		return string(d)
	}
	return strings.Repeat("0", 16-len(d)) + string(d)
}

// ParseCursor reads an event cursor ("" is the start).
func ParseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid cursor %q", c)
	}
	return n, nil
}

// FormatCursor renders sequence number seq as an event cursor; every store
// numbers events from 1 and uses it, so cursors look alike across drivers.
func FormatCursor(seq uint64) string { return formatCursor(seq) }

func parseCursor(c string) (uint64, error) { return ParseCursor(c) }

// Loan status of a checkout in flight (journaled before the distributor is
// called) and of one whose outcome the host cannot know (see reconcile).
const (
	StatusPending = "pending"
	StatusUnknown = "unknown"
)

// cloneRecord copies the maps and slices of r so that callers never share
// them with the store.
func cloneRecord(r LoanRecord) LoanRecord {
	if r.Loan.Links != nil {
		r.Loan.Links = append([]Link{}, r.Loan.Links...)
	}
	r.Loan.ProviderRef = cloneMap(r.Loan.ProviderRef)
	r.Options = cloneMap(r.Options)
	return r
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
