package bolt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/oklog/ulid/v2"
	"go.etcd.io/bbolt"
)

// The cost of a checkout on the bolt journal: the host's two writes (the
// pending loan before the distributor is called, then the active loan with
// its loan.created event), alone and from concurrent clients, on a file
// that already holds benchPrefill loans and their events, so that its
// B-trees are as deep as a library's. Besides ns/op it reports what the
// disk's noise does not blur: pages/op (pages the write-ahead log's syncs
// and bolt's commits of it wrote) and syncs/op (each log sync once, each
// bolt commit twice: its pages, then its meta page). The log's commits run
// in the background; those that end within the run are counted.
//
//	go test -run '^$' -bench Checkout -count 5 ./host/journal/bolt/

const (
	benchPrefill = 20000
	benchPatrons = 5000
)

func BenchmarkCheckout(b *testing.B) {
	b.Run("one", func(b *testing.B) {
		s := benchStore(b)
		rng := rand.New(rand.NewPCG(1, 2))
		benchMeasure(b, s, func() {
			for i := 0; i < b.N; i++ {
				benchCheckout(b, s, rng)
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		s := benchStore(b)
		var seed atomic.Uint64
		b.SetParallelism(32) // 64 clients on the 2 cores it was tuned on
		benchMeasure(b, s, func() {
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 2))
				for pb.Next() {
					benchCheckout(b, s, rng)
				}
			})
		})
	})
}

// benchMeasure runs fn as the timed part and reports pages and syncs per op.
func benchMeasure(b *testing.B, s *Store, fn func()) {
	pages, syncs := s.PagesWritten(), benchSyncs(s)
	b.ResetTimer()
	fn()
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(s.PagesWritten()-pages)/n, "pages/op")
	b.ReportMetric(float64(benchSyncs(s)-syncs)/n, "syncs/op")
}

// benchSyncs counts the syncs so far: two per bolt commit, and the
// write-ahead log's.
func benchSyncs(s *Store) int64 {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return 2*s.c.commits.Load() + s.log.syncs
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	// Prefilled in one transaction, by the same code paths as the host's
	// writes, so that the layout is what a year of checkouts leaves.
	rng := rand.New(rand.NewPCG(3, 4))
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for i := 0; i < benchPrefill; i++ {
			r, e := benchLoan(rng)
			if err := putLoan(tx, r); err != nil {
				return err
			}
			r.Status, r.ExpiresAt = journal.StatusActive, benchExpiry(r)
			if err := putLoan(tx, r); err != nil {
				return err
			}
			events := tx.Bucket(bucketEvents)
			n, err := events.NextSequence()
			if err != nil {
				return err
			}
			eb, err := encodeBoltEvent(e)
			if err != nil {
				return err
			}
			key := seqKey(n)
			c := journal.FormatCursor(n)
			dk := "created|" + r.Provider + "|" + r.ID
			if err := events.Put(key, eb.numbered("ev_"+c, c, []byte(`"`+dk+`"`))); err != nil {
				return err
			}
			if err := tx.Bucket(bucketDedupe).Put([]byte(dk), key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchLoan is a pending loan as the host journals it, and its
// loan.created event.
func benchLoan(rng *rand.Rand) (journal.Loan, journal.Event) {
	now := time.Now().UTC()
	patron := fmt.Sprintf("patron-%d", rng.IntN(benchPatrons))
	r := journal.Loan{
		ID: "ln_" + ulid.Make().String(), Provider: "overdrive", Item: fmt.Sprintf("item-%d", rng.IntN(100000)),
		Patron: patron, Status: "pending", Format: "epub", CreatedAt: now, Links: []journal.Link{},
		PatronKey: fmt.Sprintf("%032x", rng.Uint64()), Days: 14,
	}
	e := journal.Event{Type: "loan.created", Provider: r.Provider, Loan: r.ID, Patron: r.Patron, Item: r.Item, At: now, Data: map[string]string{}}
	return r, e
}

func benchExpiry(r journal.Loan) *time.Time {
	t := r.CreatedAt.Add(time.Duration(r.Days) * 24 * time.Hour)
	return &t
}

// benchCheckout makes a checkout's two writes.
func benchCheckout(b *testing.B, s *Store, rng *rand.Rand) {
	ctx := context.Background()
	r, e := benchLoan(rng)
	if err := s.PutLoan(ctx, r); err != nil {
		b.Fatal(err)
	}
	r.Status, r.ExpiresAt, r.Version = journal.StatusActive, benchExpiry(r), 1
	r.Links = []journal.Link{{Format: "epub", Rel: "download", Href: "https://example.org/dl/" + r.ID}}
	if _, applied, err := s.Apply(ctx, r, e, "created|"+r.Provider+"|"+r.ID); err != nil || !applied {
		b.Fatal(applied, err)
	}
}
