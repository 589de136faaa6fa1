package host

import (
	"cmp"
	"context"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	// The default journal (a bolt file) and the one for tests; PostgreSQL
	// is linked only by a program that imports its driver.
	_ "github.com/lendgate/lendgate/host/journal/bolt"
	_ "github.com/lendgate/lendgate/host/journal/memory"
)

// ErrNotFound is the journal's: a loan or key it does not hold.
var ErrNotFound = journal.ErrNotFound

// ErrWebhookLeaseLost is returned by a journal's SaveWebhook when another
// node has taken the endpoint's lease.
var errWebhookLeaseLost = journal.ErrWebhookLeaseLost

// openStore opens the journal of the configured driver (bolt by default);
// a driver of this module that the program does not link is an error
// naming the import to add.
func openStore(ctx context.Context, c StoreConfig) (journal.Store, error) {
	return journal.Open(ctx, cmp.Or(c.Driver, "bolt"), c.DSN)
}

// store is the journal as the host's code speaks to it: in storedLoans and
// the API's Events. journalStore adapts a journal.Store to it (records.go
// converts); watchedStore (journal.go) wraps it.
type store interface {
	PutLoan(ctx context.Context, r storedLoan) error
	DeleteLoan(ctx context.Context, provider, id string, version int64) error
	Loan(ctx context.Context, provider, id string) (storedLoan, error)
	PatronLoans(ctx context.Context, provider, patron string) ([]storedLoan, error)
	LoansByStatus(ctx context.Context, provider, status string, limit int) ([]storedLoan, error)
	ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]storedLoan, error)
	Apply(ctx context.Context, r storedLoan, e Event, dedupeKey string) (Event, bool, error)
	Events(ctx context.Context, after string, limit int) ([]Event, error)
	ClaimIdempotency(ctx context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error)
	CompleteIdempotency(ctx context.Context, r journal.IdempotencyRecord) error
	RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error)
	ReleaseIdempotency(ctx context.Context, scope, key string) error
	PurgeIdempotency(ctx context.Context, t time.Time) (int, error)
	// PurgeEvents purges a journal that can (journal.EventPurger); one
	// that cannot purges nothing.
	PurgeEvents(ctx context.Context, t time.Time) (int, error)
	Close() error
}

// newStore adapts j to the host's types; a journal that journals webhook
// deliveries (journal.Webhooks) gives a store that is a webhookJournal.
func newStore(j journal.Store) store {
	s := &journalStore{j: j}
	if w, ok := j.(journal.Webhooks); ok {
		return &webhookStore{journalStore: s, Webhooks: w}
	}
	return s
}

// journalStore is a journal.Store in the host's types; the idempotency
// records are the journal's own.
type journalStore struct{ j journal.Store }

func (s *journalStore) PutLoan(ctx context.Context, r storedLoan) error {
	return s.j.PutLoan(ctx, journalLoan(r))
}

func (s *journalStore) DeleteLoan(ctx context.Context, provider, id string, version int64) error {
	return s.j.DeleteLoan(ctx, provider, id, version)
}

func (s *journalStore) Loan(ctx context.Context, provider, id string) (storedLoan, error) {
	l, err := s.j.Loan(ctx, provider, id)
	if err != nil {
		return storedLoan{}, err
	}
	return loanRecord(l), nil
}

func (s *journalStore) PatronLoans(ctx context.Context, provider, patron string) ([]storedLoan, error) {
	return loanRecords(s.j.PatronLoans(ctx, provider, patron))
}

func (s *journalStore) LoansByStatus(ctx context.Context, provider, status string, limit int) ([]storedLoan, error) {
	return loanRecords(s.j.LoansByStatus(ctx, provider, status, limit))
}

func (s *journalStore) ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]storedLoan, error) {
	return loanRecords(s.j.ExpiredLoans(ctx, t, limit))
}

func (s *journalStore) Apply(ctx context.Context, r storedLoan, e Event, dedupeKey string) (Event, bool, error) {
	out, applied, err := s.j.Apply(ctx, journalLoan(r), journal.Event(e), dedupeKey)
	if err != nil {
		return Event{}, false, err
	}
	return Event(out), applied, nil
}

func (s *journalStore) Events(ctx context.Context, after string, limit int) ([]Event, error) {
	es, err := s.j.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(es))
	for i, e := range es {
		out[i] = Event(e)
		if out[i].Data == nil {
			out[i].Data = map[string]string{} // an event journaled without data: "data" is never null
		}
	}
	return out, nil
}

func (s *journalStore) ClaimIdempotency(ctx context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error) {
	return s.j.ClaimIdempotency(ctx, r, staleBefore)
}

func (s *journalStore) CompleteIdempotency(ctx context.Context, r journal.IdempotencyRecord) error {
	return s.j.CompleteIdempotency(ctx, r)
}

func (s *journalStore) RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error) {
	return s.j.RefreshIdempotency(ctx, scope, key, at)
}

func (s *journalStore) ReleaseIdempotency(ctx context.Context, scope, key string) error {
	return s.j.ReleaseIdempotency(ctx, scope, key)
}

func (s *journalStore) PurgeIdempotency(ctx context.Context, t time.Time) (int, error) {
	return s.j.PurgeIdempotency(ctx, t)
}

func (s *journalStore) PurgeEvents(ctx context.Context, t time.Time) (int, error) {
	p, ok := s.j.(journal.EventPurger)
	if !ok {
		return 0, nil
	}
	return p.PurgeEvents(ctx, t)
}

func (s *journalStore) Close() error { return s.j.Close() }

// webhookStore is a journalStore whose journal keeps webhook deliveries
// (journal.Webhooks): a webhookJournal.
type webhookStore struct {
	*journalStore
	journal.Webhooks
}
