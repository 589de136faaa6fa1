package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// Store is a journal.Store in memory.
type Store struct {
	mu     sync.Mutex
	loans  map[loanKey]storedLoan
	events eventLog // event i has cursor i+1
	purged int      // events before purged were purged (zero values)
	dedupe map[string]int
	idem   map[string]journal.IdempotencyRecord
	hooks  map[string]memWebhook // webhooks.go
}

// loanKey is a loan's key: a struct rather than provider+"/"+id, which
// allocated on every read and write.
type loanKey struct{ provider, id string }

// New returns an empty Store.
func New() *Store {
	return &Store{loans: map[loanKey]storedLoan{}, dedupe: map[string]int{},
		idem: map[string]journal.IdempotencyRecord{}}
}

func (s *Store) PutLoan(_ context.Context, r journal.Loan) error {
	want := r.Version
	r.Version++
	kept := store(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := loanKey{r.Provider, r.ID}
	if err := s.expectLocked(k, want); err != nil {
		return err
	}
	s.loans[k] = kept
	return nil
}

// expectLocked checks that the loan of k is at version want (0: absent),
// the compare of every write's compare-and-set; s.mu is held.
func (s *Store) expectLocked(k loanKey, want int64) error {
	var cur int64
	if r, ok := s.loans[k]; ok {
		cur = r.loan.Version
	}
	if cur != want {
		return fmt.Errorf("loan %s/%s is at version %d, not %d: %w", k.provider, k.id, cur, want, journal.ErrConflict)
	}
	return nil
}

func (s *Store) DeleteLoan(_ context.Context, provider, id string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := loanKey{provider, id}
	if _, ok := s.loans[k]; !ok {
		return nil
	}
	if err := s.expectLocked(k, version); err != nil {
		return err
	}
	delete(s.loans, k)
	return nil
}

func (s *Store) Loan(_ context.Context, provider, id string) (journal.Loan, error) {
	s.mu.Lock()
	r, ok := s.loans[loanKey{provider, id}]
	s.mu.Unlock()
	if !ok {
		return journal.Loan{}, journal.ErrNotFound
	}
	return r.copy(), nil
}

// ctxEvery is how many records a read's loop takes between two looks at
// its context.
const ctxEvery = 1024

// filter returns the loans that keep, sorted by id, up to limit; it stops
// with ctx's error when ctx ends.
func (s *Store) filter(ctx context.Context, keep func(journal.Loan) bool, limit int) ([]journal.Loan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []journal.Loan{}
	n := 0
	for _, r := range s.loans {
		if n++; n%ctxEvery == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if keep(r.loan) {
			out = append(out, r.copy())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Store) PatronLoans(ctx context.Context, provider, patron string) ([]journal.Loan, error) {
	return s.filter(ctx, func(r journal.Loan) bool { return r.Provider == provider && r.Patron == patron }, 0)
}

func (s *Store) LoansByStatus(ctx context.Context, provider, status string, limit int) ([]journal.Loan, error) {
	return s.filter(ctx, func(r journal.Loan) bool {
		return (provider == "" || r.Provider == provider) && r.Status == status
	}, limit)
}

func (s *Store) ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]journal.Loan, error) {
	return s.filter(ctx, func(r journal.Loan) bool {
		return r.Status == journal.StatusActive && r.ExpiresAt != nil && r.ExpiresAt.Before(t)
	}, limit)
}

func (s *Store) Apply(_ context.Context, r journal.Loan, e journal.Event, dedupeKey string) (journal.Event, bool, error) {
	want := r.Version
	r.Version++
	kept := store(r) // wasted on a repeated key or a conflict, which are rare
	s.mu.Lock()
	defer s.mu.Unlock()
	if dedupeKey != "" {
		if i, ok := s.dedupe[dedupeKey]; ok {
			return s.events.at(i).ev, false, nil
		}
	}
	k := loanKey{r.Provider, r.ID}
	if err := s.expectLocked(k, want); err != nil {
		return journal.Event{}, false, err
	}
	s.loans[k] = kept
	e.Cursor = journal.FormatCursor(uint64(s.events.len() + 1))
	e.ID = "ev_" + e.Cursor
	s.events.append(eventEntry{ev: e, key: dedupeKey})
	if dedupeKey != "" {
		s.dedupe[dedupeKey] = s.events.len() - 1
	}
	return e, true, nil
}

// Events returns up to limit events after the cursor; it stops with ctx's
// error when ctx ends.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]journal.Event, error) {
	from, err := journal.ParseCursor(after)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []journal.Event{}
	for i := max(from, uint64(s.purged)); i < uint64(s.events.len()) && len(out) < limit; i++ {
		if len(out)%ctxEvery == ctxEvery-1 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, s.events.at(int(i)).ev)
	}
	return out, nil
}

func idemKey(scope, key string) string { return scope + "\x00" + key }

func (s *Store) ClaimIdempotency(_ context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idemKey(r.Scope, r.Key)
	if cur, ok := s.idem[k]; ok {
		if cur.Done() || !cur.UpdatedAt.Before(staleBefore) {
			return cur, false, nil
		}
		cur.UpdatedAt = r.UpdatedAt
		s.idem[k] = cur
		return cur, true, nil
	}
	s.idem[k] = r
	return r, true, nil
}

func (s *Store) CompleteIdempotency(_ context.Context, r journal.IdempotencyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idem[idemKey(r.Scope, r.Key)] = r
	return nil
}

func (s *Store) RefreshIdempotency(_ context.Context, scope, key string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.idem[idemKey(scope, key)]
	if !ok || cur.Done() {
		return false, nil
	}
	cur.UpdatedAt = at
	s.idem[idemKey(scope, key)] = cur
	return true, nil
}

func (s *Store) ReleaseIdempotency(_ context.Context, scope, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.idem[idemKey(scope, key)]; ok && !cur.Done() {
		delete(s.idem, idemKey(scope, key))
	}
	return nil
}

// Idempotency returns the record of a key, or journal.ErrNotFound. It is
// not part of journal.Store (the host never reads a key without claiming
// it): tests and tools inspect records with it.
func (s *Store) Idempotency(_ context.Context, scope, key string) (journal.IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[idemKey(scope, key)]
	if !ok {
		return journal.IdempotencyRecord{}, journal.ErrNotFound
	}
	return r, nil
}

func (s *Store) PurgeIdempotency(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, r := range s.idem {
		if r.CreatedAt.Before(t) && (r.Done() || r.UpdatedAt.Before(t)) {
			delete(s.idem, k)
			n++
		}
	}
	return n, nil
}

func (s *Store) Close() error { return nil }

var _ journal.Store = (*Store)(nil)

// PurgeEvents drops the events appended before t. The memory store keeps
// its log indexed by cursor, so purged events leave their places (zero
// values, and whole chunks of them freed) and cursors keep their numbers.
func (s *Store) PurgeEvents(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := s.purged; i < s.events.len(); i++ {
		e := s.events.at(i)
		if !e.ev.At.Before(t) {
			break
		}
		if e.key != "" {
			delete(s.dedupe, e.key)
		}
		*e = eventEntry{}
		s.purged = i + 1
		n++
	}
	s.events.dropBefore(s.purged)
	return n, nil
}
