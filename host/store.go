package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrNotFound is returned by a Store for a loan or key it does not hold.
var ErrNotFound = errors.New("not found")

// Store is the host's journal: loans, loan events and idempotency records.
// Implementations must be safe for concurrent use and must not lose a write
// they acknowledged.
type Store interface {
	// PutLoan creates or replaces a loan record.
	PutLoan(ctx context.Context, r LoanRecord) error
	// Loan returns one loan record, or ErrNotFound.
	Loan(ctx context.Context, provider, id string) (LoanRecord, error)
	// PatronLoans returns a patron's loans at a provider, oldest first.
	PatronLoans(ctx context.Context, provider, patron string) ([]LoanRecord, error)
	// AppendEvent appends e, assigning its ID and Cursor, unless an event with
	// the same non-empty dedupe key was appended before: then it returns that
	// event and false.
	AppendEvent(ctx context.Context, e Event, dedupeKey string) (Event, bool, error)
	// Events returns up to limit events after the cursor (""; from the start),
	// oldest first.
	Events(ctx context.Context, after string, limit int) ([]Event, error)
	// PutIdempotency stores the outcome of a request made with a key.
	PutIdempotency(ctx context.Context, r IdempotencyRecord) error
	// Idempotency returns the outcome stored for a key, or ErrNotFound.
	Idempotency(ctx context.Context, scope, key string) (IdempotencyRecord, error)
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
}

// IdempotencyRecord is the stored first answer to a request with an
// Idempotency-Key.
type IdempotencyRecord struct {
	Scope       string    `json:"scope"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
}

// formatCursor renders an event sequence number as a cursor that sorts as
// text in the same order as the numbers.
func formatCursor(seq uint64) string { return fmt.Sprintf("%016d", seq) }

func parseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid cursor %q", c)
	}
	return n, nil
}

// MemoryStore is a Store in memory, for tests: it forgets everything on exit.
type MemoryStore struct {
	mu     sync.Mutex
	loans  map[string]LoanRecord
	events []Event
	dedupe map[string]int
	idem   map[string]IdempotencyRecord
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{loans: map[string]LoanRecord{}, dedupe: map[string]int{}, idem: map[string]IdempotencyRecord{}}
}

func (s *MemoryStore) PutLoan(_ context.Context, r LoanRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loans[r.Loan.Provider+"/"+r.Loan.ID] = cloneRecord(r)
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

func (s *MemoryStore) PatronLoans(_ context.Context, provider, patron string) ([]LoanRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []LoanRecord{}
	for _, r := range s.loans {
		if r.Loan.Provider == provider && r.Loan.Patron == patron {
			out = append(out, cloneRecord(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Loan.ID < out[j].Loan.ID })
	return out, nil
}

func (s *MemoryStore) AppendEvent(_ context.Context, e Event, dedupeKey string) (Event, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if dedupeKey != "" {
		if i, ok := s.dedupe[dedupeKey]; ok {
			return s.events[i], false, nil
		}
	}
	seq := uint64(len(s.events) + 1)
	e.Cursor = formatCursor(seq)
	e.ID = "ev_" + e.Cursor
	s.events = append(s.events, e)
	if dedupeKey != "" {
		s.dedupe[dedupeKey] = len(s.events) - 1
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
	for i := from; i < uint64(len(s.events)) && len(out) < limit; i++ {
		out = append(out, s.events[i])
	}
	return out, nil
}

func (s *MemoryStore) PutIdempotency(_ context.Context, r IdempotencyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idem[r.Scope+"\x00"+r.Key] = r
	return nil
}

func (s *MemoryStore) Idempotency(_ context.Context, scope, key string) (IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[scope+"\x00"+key]
	if !ok {
		return IdempotencyRecord{}, ErrNotFound
	}
	return r, nil
}

func (s *MemoryStore) Close() error { return nil }

// cloneRecord copies the maps and slices of r so that callers never share
// them with the store.
func cloneRecord(r LoanRecord) LoanRecord {
	r.Loan.Links = append([]Link(nil), r.Loan.Links...)
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

var _ Store = (*MemoryStore)(nil)
