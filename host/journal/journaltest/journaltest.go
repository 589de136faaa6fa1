// Package journaltest is the behavioural suite that every journal.Store
// driver must pass: the contract written in journal.Store's doc comments,
// as tests. Each driver's package runs it:
//
//	func TestSuite(t *testing.T) {
//		journaltest.Run(t, journaltest.Driver{Open: func(t *testing.T) (journal.Store, func() journal.Store) {
//			path := filepath.Join(t.TempDir(), "lendgate.db")
//			open := func() journal.Store { s, err := bolt.Open(path); ...; return s }
//			return open(), open
//		}})
//	}
//
// The stores must also have the inspection method Idempotency (every
// driver of this module has it), which the suite reads records with.
package journaltest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// inspector reads an idempotency record without claiming it: not part of
// journal.Store (the host never needs it), but every driver has it.
type inspector interface {
	Idempotency(ctx context.Context, scope, key string) (journal.IdempotencyRecord, error)
}

// idempotency reads the record of scope and key from s.
func idempotency(t *testing.T, s journal.Store, scope, key string) (journal.IdempotencyRecord, error) {
	t.Helper()
	i, ok := s.(inspector)
	if !ok {
		t.Fatalf("%T has no Idempotency method to inspect its records with", s)
	}
	return i.Idempotency(t.Context(), scope, key)
}

// outcome is the outcome of a first answer of HTTP status status.
func outcome(status int) journal.Outcome {
	if status >= 400 {
		return journal.OutcomeRefusal
	}
	return journal.OutcomeAnswer
}

// Driver opens the stores under test.
type Driver struct {
	// Open returns a new, empty store for t, and for a durable driver a
	// function that opens the same data again (nil: the driver keeps
	// nothing once closed, and the reopen tests are skipped). The suite
	// closes every store it is given.
	Open func(t *testing.T) (s journal.Store, reopen func() journal.Store)
	// Shared says that several stores may be open on the same data at once,
	// as on several host nodes (postgres): the concurrency tests then spread
	// their callers over two stores.
	Shared bool
}

// Run runs the suite against d, each test on a store of its own.
func Run(t *testing.T, d Driver) {
	tests := []struct {
		name string
		run  func(t *testing.T, o *opened)
	}{
		{"LoanPutGetDelete", testLoanPutGetDelete},
		{"LoanRecordRoundTrip", testLoanRecordRoundTrip},
		{"PatronLoans", testPatronLoans},
		{"LoansByStatus", testLoansByStatus},
		{"ExpiredLoans", testExpiredLoans},
		{"ApplyWritesLoanAndEvent", testApplyWritesLoanAndEvent},
		{"ApplyDedupe", testApplyDedupe},
		{"ApplyIsAtomic", testApplyIsAtomic},
		{"EventCursors", testEventCursors},
		{"ConcurrentApply", testConcurrentApply},
		{"ConcurrentApplySameDedupeKey", testConcurrentApplySameDedupeKey},
		{"EventsReadWhileApplying", testEventsReadWhileApplying},
		{"IdempotencyClaimCompleteRelease", testIdempotencyClaimCompleteRelease},
		{"IdempotencyStaleTakeover", testIdempotencyStaleTakeover},
		{"IdempotencyPurge", testIdempotencyPurge},
		{"IdempotencyHeartbeat", testIdempotencyHeartbeat},
		{"IdempotencyParkedTakeover", testIdempotencyParkedTakeover},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentStaleTakeovers", testConcurrentStaleTakeovers},
		{"RecordsSurviveReopen", testRecordsSurviveReopen},
		{"IndexesFollowChanges", testIndexesFollowChanges},
		{"EventsNeverSkippedUnderManyWriters", testEventsNeverSkippedUnderManyWriters},
		{"EventRetention", testEventRetention},
		{"IdempotencyPurgeMany", testIdempotencyPurgeMany},
		{"Webhooks", testWebhooks},
		{"VersionsCountWrites", testVersionsCountWrites},
		{"TwoWritersFromOneRead", testTwoWritersFromOneRead},
		{"ManyWritersFromOneRead", testManyWritersFromOneRead},
		{"CreateOverExisting", testCreateOverExisting},
		{"ConflictKeepsDedupeKey", testConflictKeepsDedupeKey},
		{"ConcurrentWritersLoseNoUpdate", testConcurrentWritersLoseNoUpdate},
		{"ReadsStopWhenTheContextEnds", testReadsStopWhenTheContextEnds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reopen := d.Open(t)
			o := &opened{t: t, d: d, s: s, reopen: reopen}
			t.Cleanup(o.closeAll)
			tt.run(t, o)
		})
	}
}

// opened is the store (or stores) of one test.
type opened struct {
	t      *testing.T
	d      Driver
	s      journal.Store
	reopen func() journal.Store

	mu     sync.Mutex
	others []journal.Store
}

// nodes returns n stores over the test's data: the first is o.s, the others
// are second stores opened on the same data when the driver is Shared.
func (o *opened) nodes(n int) []journal.Store {
	out := []journal.Store{o.s}
	if !o.d.Shared || o.reopen == nil {
		return out
	}
	for len(out) < n {
		s := o.reopen()
		o.mu.Lock()
		o.others = append(o.others, s)
		o.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// closeAndReopen closes the test's store and opens it again.
func (o *opened) closeAndReopen() {
	o.t.Helper()
	if err := o.s.Close(); err != nil {
		o.t.Fatalf("Close: %v", err)
	}
	o.s = nil
	o.s = o.reopen()
}

func (o *opened) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range append(o.others, o.s) {
		if s == nil {
			continue
		}
		if err := s.Close(); err != nil {
			o.t.Errorf("Close: %v", err)
		}
	}
}

// base is a fixed instant the tests' times are built on: whole seconds,
// UTC, so that every driver stores them exactly.
var base = time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC)

func at(seconds int) time.Time { return base.Add(time.Duration(seconds) * time.Second) }

func timePtr(t time.Time) *time.Time { return &t }

// loan returns a minimal loan record; ids sort in creation order, as the
// host's ULIDs do.
func loan(provider, id, patron, status string) journal.Loan {
	return journal.Loan{ID: id, Provider: provider, Item: "item-" + id, Patron: patron, Status: status,
		CreatedAt: base, Links: []journal.Link{},
		PatronKey: "key-" + patron,
	}
}

// sameJSON says whether a and b encode alike: the drivers keep records as
// JSON, so that is what "the same record" means (a time may come back in
// another location; an empty slice or map may come back nil, and the
// memory store's copy turns empty links into nil).
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return reflect.DeepEqual(normalJSON(t, a), normalJSON(t, b))
}

// normalJSON is v as decoded JSON, with empty arrays and objects as null.
func normalJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case []any:
			if len(v) == 0 {
				return nil
			}
			for i := range v {
				v[i] = walk(v[i])
			}
		case map[string]any:
			if len(v) == 0 {
				return nil
			}
			for k := range v {
				v[k] = walk(v[k])
			}
		}
		return v
	}
	return walk(out)
}

func mustJSON(t *testing.T, a, b any, what string) {
	t.Helper()
	if !sameJSON(t, a, b) {
		ja, _ := json.MarshalIndent(a, "", "  ")
		jb, _ := json.MarshalIndent(b, "", "  ")
		t.Fatalf("%s:\n got %s\nwant %s", what, ja, jb)
	}
}

// ids lists the provider/id of loan records.
func ids(rs []journal.Loan) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Provider+"/"+r.ID)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustIDs(t *testing.T, got []journal.Loan, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if want == nil {
		want = []string{}
	}
	if g := ids(got); !equalStrings(g, want) {
		t.Fatalf("got loans %q, want %q", g, want)
	}
}

// parallel runs f(i) for i in [0, n) at once, on the stores of nodes in
// turn, after all have started.
func parallel(n int, nodes []journal.Store, f func(i int, s journal.Store) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = f(i, nodes[i%len(nodes)])
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

func mustNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
}

func name(prefix string, i int) string { return fmt.Sprintf("%s-%02d", prefix, i) }
