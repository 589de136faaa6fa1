package host

import (
	"context"
	"sort"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for tests: it forgets everything on exit.
type MemoryStore struct {
	mu     sync.Mutex
	loans  map[string]LoanRecord
	events []Event // events[i] has cursor i+1
	purged int     // events[:purged] were purged (zero values)
	dedupe map[string]int
	keyOf  map[int]string // the dedupe key of events[i], for purging it
	idem   map[string]IdempotencyRecord
	hooks  map[string]memWebhook // store_memory_webhooks.go
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{loans: map[string]LoanRecord{}, dedupe: map[string]int{}, keyOf: map[int]string{},
		idem: map[string]IdempotencyRecord{}}
}

func (s *MemoryStore) PutLoan(_ context.Context, r LoanRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loans[r.Loan.Provider+"/"+r.Loan.ID] = cloneRecord(r)
	return nil
}

func (s *MemoryStore) DeleteLoan(_ context.Context, provider, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.loans, provider+"/"+id)
	return nil
}

func (s *MemoryStore) Loan(_ context.Context, provider, id string) (LoanRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.loans[provider+"/"+id]
	if !ok {
		return LoanRecord{}, ErrNotFound
	}
	return cloneRecord(r), nil
}

func (s *MemoryStore) filter(keep func(LoanRecord) bool, limit int) []LoanRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []LoanRecord{}
	for _, r := range s.loans {
		if keep(r) {
			out = append(out, cloneRecord(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Loan.ID < out[j].Loan.ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (s *MemoryStore) PatronLoans(_ context.Context, provider, patron string) ([]LoanRecord, error) {
	return s.filter(func(r LoanRecord) bool { return r.Loan.Provider == provider && r.Loan.Patron == patron }, 0), nil
}

func (s *MemoryStore) LoansByStatus(_ context.Context, provider, status string, limit int) ([]LoanRecord, error) {
	return s.filter(func(r LoanRecord) bool {
		return (provider == "" || r.Loan.Provider == provider) && r.Loan.Status == status
	}, limit), nil
}

func (s *MemoryStore) ExpiredLoans(_ context.Context, t time.Time, limit int) ([]LoanRecord, error) {
	return s.filter(func(r LoanRecord) bool {
		return r.Loan.Status == StatusActive && r.Loan.ExpiresAt != nil && r.Loan.ExpiresAt.Before(t)
	}, limit), nil
}

func (s *MemoryStore) Apply(_ context.Context, r LoanRecord, e Event, dedupeKey string) (Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if dedupeKey != "" {
		if i, ok := s.dedupe[dedupeKey]; ok {
			return s.events[i], false, nil
		}
	}
	s.loans[r.Loan.Provider+"/"+r.Loan.ID] = cloneRecord(r)
	e.Cursor = formatCursor(uint64(len(s.events) + 1))
	e.ID = "ev_" + e.Cursor
	s.events = append(s.events, e)
	if dedupeKey != "" {
		s.dedupe[dedupeKey] = len(s.events) - 1
		s.keyOf[len(s.events)-1] = dedupeKey
	}
	return e, true, nil
}

func (s *MemoryStore) Events(_ context.Context, after string, limit int) ([]Event, error) {
	from, err := parseCursor(after)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Event{}
	for i := max(from, uint64(s.purged)); i < uint64(len(s.events)) && len(out) < limit; i++ {
		out = append(out, s.events[i])
	}
	return out, nil
}

func idemKey(scope, key string) string { return scope + "\x00" + key }

func (s *MemoryStore) ClaimIdempotency(_ context.Context, r IdempotencyRecord, staleBefore time.Time) (IdempotencyRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idemKey(r.Scope, r.Key)
	if cur, ok := s.idem[k]; ok {
		if cur.Status != 0 || !cur.UpdatedAt.Before(staleBefore) {
			return cur, false, nil
		}
		cur.UpdatedAt = r.UpdatedAt
		s.idem[k] = cur
		return cur, true, nil
	}
	s.idem[k] = r
	return r, true, nil
}

func (s *MemoryStore) CompleteIdempotency(_ context.Context, r IdempotencyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idem[idemKey(r.Scope, r.Key)] = r
	return nil
}

func (s *MemoryStore) RefreshIdempotency(_ context.Context, scope, key string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.idem[idemKey(scope, key)]
	if !ok || cur.Status != 0 {
		return false, nil
	}
	cur.UpdatedAt = at
	s.idem[idemKey(scope, key)] = cur
	return true, nil
}

func (s *MemoryStore) ReleaseIdempotency(_ context.Context, scope, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.idem[idemKey(scope, key)]; ok && cur.Status == 0 {
		delete(s.idem, idemKey(scope, key))
	}
	return nil
}

func (s *MemoryStore) Idempotency(_ context.Context, scope, key string) (IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[idemKey(scope, key)]
	if !ok {
		return IdempotencyRecord{}, ErrNotFound
	}
	return r, nil
}

func (s *MemoryStore) PurgeIdempotency(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, r := range s.idem {
		if r.CreatedAt.Before(t) && (r.Status != 0 || r.UpdatedAt.Before(t)) {
			delete(s.idem, k)
			n++
		}
	}
	return n, nil
}

func (s *MemoryStore) Close() error { return nil }

var _ Store = (*MemoryStore)(nil)

// PurgeEvents drops the events appended before t. The memory store keeps
// its log as a slice indexed by cursor, so purged events leave their
// places (nil) and cursors keep their numbers.
func (s *MemoryStore) PurgeEvents(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := s.purged; i < len(s.events); i++ {
		if !s.events[i].At.Before(t) {
			break
		}
		if k, ok := s.keyOf[i]; ok {
			delete(s.dedupe, k)
			delete(s.keyOf, i)
		}
		s.events[i] = Event{}
		s.purged = i + 1
		n++
	}
	return n, nil
}
