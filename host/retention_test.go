package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// The sweeper purges events older than store.event_retention, keeps newer
// ones, and never purges within the Idempotency-Key TTL even when the
// retention is set shorter.
func TestSweeperPurgesEventsPastRetention(t *testing.T) {
	now := time.Now().UTC()
	for _, c := range []struct {
		name      string
		retention time.Duration
		kept      []time.Duration // ages of the events kept
		purged    []time.Duration
	}{
		{"default 90 days", 0, []time.Duration{89 * 24 * time.Hour, time.Hour}, []time.Duration{91 * 24 * time.Hour}},
		{"7 days", 7 * 24 * time.Hour, []time.Duration{6 * 24 * time.Hour}, []time.Duration{8 * 24 * time.Hour, 91 * 24 * time.Hour}},
		{"shorter than the key TTL", time.Hour, []time.Duration{2 * time.Hour, 23 * time.Hour}, []time.Duration{25 * time.Hour}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := memory.New()
			ctx := context.Background()
			ages := append(append([]time.Duration{}, c.purged...), c.kept...)
			// Oldest first, as events are appended.
			for i := range ages {
				for j := i + 1; j < len(ages); j++ {
					if ages[j] > ages[i] {
						ages[i], ages[j] = ages[j], ages[i]
					}
				}
			}
			for i, age := range ages {
				r := journal.Loan{ID: "ln_" + string(rune('a'+i)), Provider: "fake-a", Patron: "p", Status: host.StatusReturned}
				if _, _, err := store.Apply(ctx, r, journal.Event{Type: "loan.returned", Loan: r.ID, At: now.Add(-age)}, ""); err != nil {
					t.Fatal(err)
				}
			}
			cfg := fakeConfig(t)
			cfg.StoreImpl = store
			cfg.Store.EventRetention = host.Duration(c.retention)
			h, err := host.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			h.Close(ctx) // the sweep at start has run once Close returns
			evs, err := store.Events(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(c.kept) {
				t.Fatalf("%d events kept, want %d (ages %v)", len(evs), len(c.kept), c.kept)
			}
			oldestKept := max(c.kept[0], c.kept[len(c.kept)-1])
			for _, e := range evs {
				if age := now.Sub(e.At); age > oldestKept+time.Minute {
					t.Fatalf("an event %v old was kept", age)
				}
			}
		})
	}
}
