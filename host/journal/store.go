package journal

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store for a loan, key or webhook it does not
// hold.
var ErrNotFound = errors.New("not found")

// ErrDamaged is what the error of a driver's Open matches (errors.Is) when
// its journal is damaged: it was not opened, and opening it takes the
// operator's recovery step (for bolt, docs/operations.md "Recovering a
// damaged journal"). A journal that cannot be read whole is never opened
// as if the damage were absence.
var ErrDamaged = errors.New("journal damaged")

// ErrConflict is returned by a loan write (PutLoan, Apply, DeleteLoan)
// whose expectation failed: the stored record is not at the version the
// writer read (it was written, created or deleted since). Nothing was
// written. The writer reads the loan again and decides again, or gives way.
var ErrConflict = errors.New("loan record changed since it was read")

// Store is the journal: loans, loan events and idempotency records.
// Implementations must be safe for concurrent use (by several host
// processes, for a shared store) and must not lose a write they
// acknowledged. The behavioural suite in journaltest runs against every
// driver.
//
// Every write of a loan is compare-and-set on its Version (see Loan): it
// writes only if the stored record is at the version the writer read (0:
// there is none), atomically with the check, and stores the record at the
// next version; otherwise it writes nothing and returns ErrConflict. So a
// loan's status moves only from the status it was read in, and two writers
// from the same read never both succeed.
type Store interface {
	// PutLoan writes l if the stored record is at version l.Version (0: no
	// record, a creation), and stores it at version l.Version+1;
	// otherwise it returns ErrConflict and writes nothing.
	PutLoan(ctx context.Context, l Loan) error
	// DeleteLoan removes a loan record at version (a pending checkout that
	// the distributor refused); ErrConflict if the record is at another
	// version. Deleting a missing one is not an error.
	DeleteLoan(ctx context.Context, provider, id string, version int64) error
	// Loan returns one loan record, or ErrNotFound.
	Loan(ctx context.Context, provider, id string) (Loan, error)
	// PatronLoans returns a patron's loans at a provider, oldest first.
	PatronLoans(ctx context.Context, provider, patron string) ([]Loan, error)
	// LoansByStatus returns up to limit loans in a status at a provider (""
	// for every provider), oldest first.
	LoansByStatus(ctx context.Context, provider, status string, limit int) ([]Loan, error)
	// ExpiredLoans returns up to limit active loans whose expiry is before t.
	ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]Loan, error)
	// Apply writes l and appends e in one transaction, assigning e's ID and
	// Cursor. When dedupeKey is non-empty and was applied before, it writes
	// nothing and returns the earlier event and false, whatever l.Version.
	// Otherwise l is written as PutLoan writes it: if the stored record is
	// not at l.Version, it returns ErrConflict, appends no event and leaves
	// dedupeKey unused (a later Apply with it applies).
	Apply(ctx context.Context, l Loan, e Event, dedupeKey string) (Event, bool, error)
	// Events returns up to limit events after the cursor ("": from the
	// start), oldest first.
	Events(ctx context.Context, after string, limit int) ([]Event, error)

	// ClaimIdempotency records that a request with r's scope and key has
	// started (r in progress). If a record exists it is returned with
	// false, unless it is still in progress and its UpdatedAt is before
	// staleBefore (its owner stopped beating, or parked it): then the claim
	// takes it over, keeping its Ref and every other field but UpdatedAt,
	// and returns the taken-over record with true.
	ClaimIdempotency(ctx context.Context, r IdempotencyRecord, staleBefore time.Time) (IdempotencyRecord, bool, error)
	// CompleteIdempotency stores r as the record of a claimed key: its
	// outcome (Outcome, Body), or, in progress, the claim parked (see
	// IdempotencyRecord.Unknown).
	CompleteIdempotency(ctx context.Context, r IdempotencyRecord) error
	// RefreshIdempotency is a claim's heartbeat: it moves the UpdatedAt of
	// an in-progress record to at and reports true, or reports false when
	// the key is not in progress (completed, released or purged).
	RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error)
	// ReleaseIdempotency deletes an in-progress claim whose outcome is not
	// kept, so that a retry runs again.
	ReleaseIdempotency(ctx context.Context, scope, key string) error
	// PurgeIdempotency deletes the records created before t that are
	// completed, or in progress with an UpdatedAt before t too (an owner
	// that stopped beating, a parked claim): a key expires whatever its
	// outcome.
	PurgeIdempotency(ctx context.Context, t time.Time) (int, error)

	// Close releases the store.
	Close() error
}

// EventPurger is a Store that can drop old events: every driver of this
// module is one. It is an interface of its own, beside Store, so that a
// Store written elsewhere keeps compiling; the sweeper purges only stores
// that implement it.
type EventPurger interface {
	// PurgeEvents deletes events appended before t, oldest first, with
	// their dedupe keys, and returns how many it deleted. It never deletes
	// an event appended at or after t.
	PurgeEvents(ctx context.Context, t time.Time) (int, error)
}

// ErrWebhookLeaseLost is returned by SaveWebhook when another node has
// taken the endpoint's lease.
var ErrWebhookLeaseLost = errors.New("webhook lease held by another node")

// Webhooks is a Store that journals webhook deliveries: a record per
// endpoint, its cursor on the event log and the lease of the node driving
// it. Every driver of this module is one; a Store without it cannot have
// webhooks.
type Webhooks interface {
	// OpenWebhook journals endpoint with its cursor at the end of the log,
	// unless it is journaled already.
	OpenWebhook(ctx context.Context, endpoint string) error
	// LeaseWebhook gives endpoint's lease to holder until until when it is
	// free, already holder's, or expired (ending before now), and returns
	// the endpoint's state; false when another holder has it; ErrNotFound
	// for an endpoint never opened.
	LeaseWebhook(ctx context.Context, endpoint, holder string, now, until time.Time) (WebhookState, bool, error)
	// SaveWebhook writes st while holder holds its lease, extending the
	// lease to until; ErrWebhookLeaseLost when holder does not hold it.
	SaveWebhook(ctx context.Context, st WebhookState, holder string, until time.Time) error
	// ReleaseWebhook frees endpoint's lease if holder holds it.
	ReleaseWebhook(ctx context.Context, endpoint, holder string) error
	// WebhookState returns endpoint's state, or ErrNotFound.
	WebhookState(ctx context.Context, endpoint string) (WebhookState, error)
}
