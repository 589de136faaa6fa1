package host_test

import (
	"context"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// hookStore is a journal whose loan writes run a test's hook first: the
// hook of the first write that matches runs once, before that write
// reaches the journal, so that a test puts another operation exactly
// between a writer's read and its write.
type hookStore struct {
	journal.Store
	mu    sync.Mutex
	hooks []*writeHook
}

// writeHook is a hook of a hookStore.
type writeHook struct {
	match func(op string, l journal.Loan, e journal.Event) bool
	run   func()
	fired bool
}

// before installs a hook: run is called before the first loan write that
// match accepts (op "put", "apply" or "delete").
func (s *hookStore) before(match func(op string, l journal.Loan, e journal.Event) bool, run func()) *writeHook {
	h := &writeHook{match: match, run: run}
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
	return h
}

func (s *hookStore) fire(op string, l journal.Loan, e journal.Event) {
	s.mu.Lock()
	var run func()
	for _, h := range s.hooks {
		if !h.fired && h.match(op, l, e) {
			h.fired, run = true, h.run
			break
		}
	}
	s.mu.Unlock()
	if run != nil {
		run()
	}
}

func (s *hookStore) PutLoan(ctx context.Context, l journal.Loan) error {
	s.fire("put", l, journal.Event{})
	return s.Store.PutLoan(ctx, l)
}

func (s *hookStore) Apply(ctx context.Context, l journal.Loan, e journal.Event, key string) (journal.Event, bool, error) {
	s.fire("apply", l, e)
	return s.Store.Apply(ctx, l, e, key)
}

func (s *hookStore) DeleteLoan(ctx context.Context, provider, id string, version int64) error {
	s.fire("delete", journal.Loan{Provider: provider, ID: id}, journal.Event{})
	return s.Store.DeleteLoan(ctx, provider, id, version)
}

// applying matches the Apply of an event of type typ to loan id.
func applying(typ, id string) func(string, journal.Loan, journal.Event) bool {
	return func(op string, l journal.Loan, e journal.Event) bool {
		return op == "apply" && e.Type == typ && l.ID == id
	}
}

// putting matches a PutLoan of loan id in status.
func putting(status, id string) func(string, journal.Loan, journal.Event) bool {
	return func(op string, l journal.Loan, _ journal.Event) bool {
		return op == "put" && l.Status == status && l.ID == id
	}
}

// casDrivers are the journals the interleavings run on.
var casDrivers = []string{"memory", "bolt"}

// openDriver opens an empty journal of driver for t.
func openDriver(t *testing.T, driver string) journal.Store {
	t.Helper()
	switch driver {
	case "memory":
		return memory.New()
	case "bolt":
		s, err := bolt.Open(filepath.Join(t.TempDir(), "lendgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() }) // after the host's Close (cleanups run last first)
		return s
	}
	t.Fatalf("no driver %q", driver)
	return nil
}

// startHooked starts a host on a hooked journal of driver, whose sweeper
// runs only when the test says (host.Sweep).
func startHooked(t *testing.T, driver string, cfg host.Config) (*env, *hookStore) {
	t.Helper()
	hs := &hookStore{Store: openDriver(t, driver)}
	cfg.StoreImpl = hs
	host.ManualSweep(&cfg)
	return start(t, cfg), hs
}

// rewrite changes a loan in the journal at the version it reads, as a
// writer the host does not know of would.
func rewrite(t *testing.T, s journal.Store, provider, id string, change func(*journal.Loan)) {
	t.Helper()
	l, err := s.Loan(context.Background(), provider, id)
	if err != nil {
		t.Fatal(err)
	}
	change(&l)
	if err := s.PutLoan(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

// loanEvents lists the types of the events of loan id, in order.
func loanEvents(t *testing.T, h *host.Host, id string) []string {
	t.Helper()
	page, err := h.Events(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Events {
		if e.Loan == id {
			out = append(out, e.Type)
		}
	}
	return out
}

func mustEvents(t *testing.T, h *host.Host, id string, want ...string) {
	t.Helper()
	if got := loanEvents(t, h, id); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events of %s: %q, want %q", id, got, want)
	}
}

func mustFired(t *testing.T, h *writeHook, what string) {
	t.Helper()
	if !h.fired {
		t.Fatalf("%s never ran: the interleaving did not happen", what)
	}
}

// expiredLoan checks out a loan at fake-a and moves its expiry back by
// ago, as if it had run out.
func expiredLoan(t *testing.T, e *env, s journal.Store, ago time.Duration) (host.Loan, time.Time) {
	t.Helper()
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	past := time.Now().Add(-ago).UTC().Truncate(time.Second)
	rewrite(t, s, "fake-a", l.ID, func(r *journal.Loan) { r.ExpiresAt = &past })
	return l, past
}

// A renewal and the sweeper's expiry of the same loan, in both orders.
// The later expiry wins: a renewal journaled first leaves the sweeper
// nothing to expire; an expiry journaled first is undone by a renewal
// whose answer moves the expiry past now (loan.renewed after loan.expired),
// and stands against one whose answer does not (the renewal answers
// not_available, as for an expired loan).
func TestRenewalAgainstSweeperExpiry(t *testing.T) {
	for _, driver := range casDrivers {
		t.Run(driver+"/renewal first", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			l, past := expiredLoan(t, e, hs.Store, time.Hour)
			var renewed host.Loan
			var rerr error
			hook := hs.before(applying(sdk.EventLoanExpired, l.ID), func() {
				renewed, rerr = e.h.Renew(context.Background(), "fake-a", l.ID, host.RenewRequest{Days: 7})
			})
			host.Sweep(t.Context(), e.h)
			mustFired(t, hook, "the renewal between the sweeper's listing and its expiry")
			want := past.Add(7 * 24 * time.Hour)
			if rerr != nil || renewed.ExpiresAt == nil || !renewed.ExpiresAt.Equal(want) {
				t.Fatalf("renewal: %+v, %v", renewed, rerr)
			}
			got, err := e.h.Loan(t.Context(), "fake-a", l.ID)
			if err != nil || got.Status != host.StatusActive || !got.ExpiresAt.Equal(want) {
				t.Fatalf("after the sweep: %+v, %v; want active until %v", got, err, want)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanRenewed)
		})
		t.Run(driver+"/expiry first, the renewal's later expiry wins", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			l, past := expiredLoan(t, e, hs.Store, time.Hour)
			hook := hs.before(applying(sdk.EventLoanRenewed, l.ID), func() { host.Sweep(context.Background(), e.h) })
			renewed, err := e.h.Renew(t.Context(), "fake-a", l.ID, host.RenewRequest{Days: 7})
			mustFired(t, hook, "the sweep between the renewal's read and its write")
			want := past.Add(7 * 24 * time.Hour)
			if err != nil || renewed.Status != host.StatusActive || !renewed.ExpiresAt.Equal(want) {
				t.Fatalf("renewal: %+v, %v; want active until %v", renewed, err, want)
			}
			got, err := e.h.Loan(t.Context(), "fake-a", l.ID)
			if err != nil || got.Status != host.StatusActive || !got.ExpiresAt.Equal(want) {
				t.Fatalf("journal: %+v, %v; want active until %v", got, err, want)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanExpired, sdk.EventLoanRenewed)
			// Its new expiry passes too: it expires again (once).
			again := time.Now().Add(-time.Minute).UTC()
			rewrite(t, hs.Store, "fake-a", l.ID, func(r *journal.Loan) { r.ExpiresAt = &again })
			host.Sweep(t.Context(), e.h)
			host.Sweep(t.Context(), e.h)
			if got, _ := e.h.Loan(t.Context(), "fake-a", l.ID); got.Status != host.StatusExpired {
				t.Fatalf("after its renewed expiry: %s, want expired", got.Status)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanExpired, sdk.EventLoanRenewed, sdk.EventLoanExpired)
		})
		t.Run(driver+"/expiry first, a renewal with no later expiry gives way", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			// Ran out 30 days ago: 7 more days end in the past too.
			l, _ := expiredLoan(t, e, hs.Store, 30*24*time.Hour)
			hook := hs.before(applying(sdk.EventLoanRenewed, l.ID), func() { host.Sweep(context.Background(), e.h) })
			_, err := e.h.Renew(t.Context(), "fake-a", l.ID, host.RenewRequest{Days: 7})
			mustFired(t, hook, "the sweep between the renewal's read and its write")
			if sdk.CodeOf(err) != sdk.CodeNotAvailable || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("renewal over the expiry: %v, want not_available (expired)", err)
			}
			if got, _ := e.h.Loan(t.Context(), "fake-a", l.ID); got.Status != host.StatusExpired {
				t.Fatalf("journal: %s, want expired", got.Status)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanExpired)
		})
	}
}

// notifyToken is the notification token the host gave the fake plugin
// for loan l (its notify_url's last segment).
func notifyToken(t *testing.T, l host.Loan) string {
	t.Helper()
	u := l.ProviderRef["notify_url"]
	if u == "" {
		t.Fatalf("loan %s has no notify_url: %+v", l.ID, l.ProviderRef)
	}
	return path.Base(u)
}

// A distributor's notification that the loan was returned, and a
// renewal, in both orders. The notification is the distributor's latest
// word: journaled after a renewal, it ends the renewed loan; journaled
// before, the renewal gives way to the loan's end (not_available).
func TestNotificationAgainstRenewal(t *testing.T) {
	returned := []byte(`{"type":"return"}`)
	for _, driver := range casDrivers {
		t.Run(driver+"/renewal first", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			var renewed host.Loan
			var rerr error
			hook := hs.before(applying(sdk.EventLoanReturned, l.ID), func() {
				renewed, rerr = e.h.Renew(context.Background(), "fake-a", l.ID, host.RenewRequest{Days: 7})
			})
			if err := e.h.Notify(t.Context(), "fake-a", notifyToken(t, l), "POST", nil, returned); err != nil {
				t.Fatal(err)
			}
			mustFired(t, hook, "the renewal between the notification's read and its write")
			if rerr != nil || !renewed.ExpiresAt.After(*l.ExpiresAt) {
				t.Fatalf("renewal: %+v, %v", renewed, rerr)
			}
			got, err := e.h.Loan(t.Context(), "fake-a", l.ID)
			if err != nil || got.Status != host.StatusReturned || !got.ExpiresAt.Equal(*renewed.ExpiresAt) {
				t.Fatalf("journal: %+v, %v; want returned, with the renewed expiry", got, err)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanRenewed, sdk.EventLoanReturned)
		})
		t.Run(driver+"/notification first", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			var nerr error
			hook := hs.before(applying(sdk.EventLoanRenewed, l.ID), func() {
				nerr = e.h.Notify(context.Background(), "fake-a", notifyToken(t, l), "POST", nil, returned)
			})
			_, err := e.h.Renew(t.Context(), "fake-a", l.ID, host.RenewRequest{Days: 7})
			mustFired(t, hook, "the notification between the renewal's read and its write")
			if nerr != nil {
				t.Fatal(nerr)
			}
			if sdk.CodeOf(err) != sdk.CodeNotAvailable || !strings.Contains(err.Error(), "returned") {
				t.Fatalf("renewal of a loan returned meanwhile: %v, want not_available (returned)", err)
			}
			got, err := e.h.Loan(t.Context(), "fake-a", l.ID)
			if err != nil || got.Status != host.StatusReturned || !got.ExpiresAt.Equal(*l.ExpiresAt) {
				t.Fatalf("journal: %+v, %v; want returned, expiry unchanged", got, err)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanReturned)
		})
	}
}

// A checkout's answer and the sweeper's unknown mark of its pending loan,
// in both orders: the checkout's answer stands either way.
func TestCheckoutAgainstSweeperUnknownMark(t *testing.T) {
	for _, driver := range casDrivers {
		t.Run(driver+"/mark first", func(t *testing.T) {
			// The mark lands between the distributor's answer and its
			// journaling (here because the attempt is made to look older
			// than the lease): the checkout's write wins.
			e, hs := startHooked(t, driver, fakeConfig(t))
			var id, marked string
			created := func(op string, _ journal.Loan, ev journal.Event) bool {
				return op == "apply" && ev.Type == sdk.EventLoanCreated
			}
			hook := hs.before(created, func() {
				ls, err := hs.Store.LoansByStatus(context.Background(), "fake-a", host.StatusPending, 10)
				if err != nil || len(ls) != 1 {
					t.Errorf("pending loans during the checkout: %v, %v", ls, err)
					return
				}
				// (In the checkout's goroutine: errors, not t.Fatal.)
				id = ls[0].ID
				old := ls[0]
				old.AttemptAt = time.Now().Add(-time.Hour).UTC()
				if err := hs.Store.PutLoan(context.Background(), old); err != nil {
					t.Error(err)
					return
				}
				host.Sweep(context.Background(), e.h)
				cur, _ := hs.Store.Loan(context.Background(), "fake-a", id)
				marked = cur.Status
			})
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			mustFired(t, hook, "the sweep between the checkout's answer and its journaling")
			if marked != host.StatusUnknown || l.ID != id {
				t.Fatalf("the sweep marked %s %q, want %s unknown", id, marked, l.ID)
			}
			if l.Status != host.StatusActive {
				t.Fatalf("checkout answered %s, want active", l.Status)
			}
			if got, _ := e.h.Loan(t.Context(), "fake-a", l.ID); got.Status != host.StatusActive {
				t.Fatalf("journal: %s, want active", got.Status)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated)
		})
		t.Run(driver+"/answer first", func(t *testing.T) {
			// A checkout that outlived its lease journals its answer
			// between the sweeper's listing and its mark: the mark gives
			// way.
			e, hs := startHooked(t, driver, fakeConfig(t))
			ctx := t.Context()
			old := time.Now().Add(-time.Hour).UTC()
			pending := journal.Loan{ID: "ln_slow", Provider: "fake-a", Item: isbnOK, Patron: "p1", Status: host.StatusPending,
				CreatedAt: old, AttemptAt: old, Links: []journal.Link{}}
			if err := hs.Store.PutLoan(ctx, pending); err != nil {
				t.Fatal(err)
			}
			hook := hs.before(putting(host.StatusUnknown, "ln_slow"), func() {
				placed := pending
				placed.Status, placed.Version = host.StatusActive, 1
				if _, _, err := hs.Store.Apply(context.Background(), placed, journal.Event{Type: sdk.EventLoanCreated,
					Provider: "fake-a", Loan: "ln_slow", At: time.Now().UTC()}, "created|fake-a|ln_slow"); err != nil {
					t.Error(err)
				}
			})
			host.Sweep(ctx, e.h)
			mustFired(t, hook, "the checkout's answer between the sweeper's listing and its mark")
			if got, _ := e.h.Loan(ctx, "fake-a", "ln_slow"); got.Status != host.StatusActive {
				t.Fatalf("journal: %s, want active", got.Status)
			}
			if strings.Contains(e.logs.String(), "loan outcome unknown") {
				t.Fatal("the sweeper logged the loan as unknown")
			}
		})
	}
}

// demarqueHooked is a host with the real De Marque plugin (it deduplicates
// checkouts by loan id and resolves unknown ones) on a hooked journal of
// driver, swept by hand, and a first checkout under key "K" whose answer
// was lost (the warehouse made the loan after the instance's timeout): the
// loan is unknown, the key parked.
func demarqueHooked(t *testing.T, driver string) (*demarqueEnv, *hookStore, string) {
	t.Helper()
	hs := &hookStore{Store: openDriver(t, driver)}
	d := startDemarqueHost(t, func(cfg *host.Config) {
		pc := cfg.Providers["demarque-mtl"]
		pc.Timeout = host.Duration(time.Second)
		cfg.Providers["demarque-mtl"] = pc
		cfg.StoreImpl = hs
		host.ManualSweep(cfg)
	})
	d.sim.SetFaults(demarquesim.Faults{Late: time.Minute}) // held until the plugin gives up
	first := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", "K")
	p := d.expectProblem(first, http.StatusGatewayTimeout, "provider_timeout")
	waitFor(t, "the warehouse to make the late loan", 5*time.Second, func() bool { _, ok := d.sim.Loan(p.Loan); return ok })
	d.sim.SetFaults(demarquesim.Faults{})
	if l, err := d.h.Loan(t.Context(), "demarque-mtl", p.Loan); err != nil || l.Status != host.StatusUnknown {
		t.Fatalf("after the lost answer: %+v, %v; want unknown", l, err)
	}
	return d, hs, p.Loan
}

// retry sends the checkout of key "K" again and returns the loan answered.
func (d *demarqueEnv) retry(t *testing.T) host.Loan {
	t.Helper()
	r := d.do("POST", demarqueLoans, d.loanBody("patron-42"), "Idempotency-Key", "K")
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	var l host.Loan
	r.json(t, &l)
	return l
}

// A retried checkout (keeping its loan's first created_at, long past the
// lease) against the sweeper while it runs: the sweeper measures the lease
// from the retry's own attempt and leaves the loan pending, so neither its
// unknown mark nor resolve touches a checkout in flight.
func TestRetriedCheckoutAgainstSweeper(t *testing.T) {
	for _, driver := range casDrivers {
		t.Run(driver, func(t *testing.T) {
			d, hs, id := demarqueHooked(t, driver)
			old := time.Now().Add(-time.Hour).UTC()
			rewrite(t, hs.Store, "demarque-mtl", id, func(r *journal.Loan) { r.CreatedAt, r.AttemptAt = old, old })
			var during string
			hook := hs.before(applying(sdk.EventLoanCreated, id), func() {
				host.Sweep(context.Background(), d.h)
				cur, _ := hs.Store.Loan(context.Background(), "demarque-mtl", id)
				during = cur.Status
			})
			l := d.retry(t)
			mustFired(t, hook, "the sweep while the retry was in flight")
			if during != host.StatusPending {
				t.Fatalf("the sweep during the retry left the loan %q, want pending", during)
			}
			if l.ID != id || l.Status != host.StatusActive || !l.CreatedAt.Equal(old) {
				t.Fatalf("retry answered %+v; want %s active, created %v", l, id, old)
			}
			mustEvents(t, d.h, id, sdk.EventLoanCreated)
			if tx := transactions(d.sim); len(tx) != 1 {
				t.Fatalf("the warehouse saw transactions %v, want one", tx)
			}
		})
	}
}

// A retried checkout against resolve of the same unknown loan, in both
// orders. A retry journaled between resolve's question and its answer
// makes the resolution give way (the loan is placed once, by the retry's
// loan.created); a resolution journaled before the retry's pending write
// settles the loan, and the retry answers it without sending anything.
func TestRetriedCheckoutAgainstResolve(t *testing.T) {
	for _, driver := range casDrivers {
		t.Run(driver+"/retry first", func(t *testing.T) {
			d, hs, id := demarqueHooked(t, driver)
			var l host.Loan
			hook := hs.before(applying(sdk.EventLoanResolved, id), func() { l = d.retry(t) })
			host.Sweep(t.Context(), d.h)
			mustFired(t, hook, "the retry between resolve's question and its answer")
			if l.ID != id || l.Status != host.StatusActive {
				t.Fatalf("retry answered %+v, want %s active", l, id)
			}
			if got, _ := d.h.Loan(t.Context(), "demarque-mtl", id); got.Status != host.StatusActive {
				t.Fatalf("journal: %s, want active", got.Status)
			}
			mustEvents(t, d.h, id, sdk.EventLoanCreated)
			if tx := transactions(d.sim); len(tx) != 1 {
				t.Fatalf("the warehouse saw transactions %v, want one", tx)
			}
		})
		t.Run(driver+"/resolution first", func(t *testing.T) {
			d, hs, id := demarqueHooked(t, driver)
			sentBefore := transactions(d.sim)[id]
			hook := hs.before(putting(host.StatusPending, id), func() { host.Sweep(context.Background(), d.h) })
			l := d.retry(t)
			mustFired(t, hook, "resolve between the retry's read and its pending write")
			if l.ID != id || l.Status != host.StatusActive {
				t.Fatalf("retry answered %+v, want %s active", l, id)
			}
			if sent := transactions(d.sim)[id]; sent != sentBefore {
				t.Fatalf("the retry sent the order again (%d lending requests, %d before)", sent, sentBefore)
			}
			mustEvents(t, d.h, id, sdk.EventLoanResolved)
		})
	}
}

// A placed loan whose pending record another writer deleted meanwhile is
// written anew: a loan the distributor placed is never left out of the
// journal.
func TestPlacedLoanDeletedMeanwhileIsWrittenAgain(t *testing.T) {
	for _, driver := range casDrivers {
		t.Run(driver, func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			created := func(op string, _ journal.Loan, ev journal.Event) bool {
				return op == "apply" && ev.Type == sdk.EventLoanCreated
			}
			hook := hs.before(created, func() {
				ls, err := hs.Store.LoansByStatus(context.Background(), "fake-a", host.StatusPending, 10)
				if err != nil || len(ls) != 1 {
					t.Errorf("pending loans during the checkout: %v, %v", ls, err)
					return
				}
				if err := hs.Store.DeleteLoan(context.Background(), "fake-a", ls[0].ID, ls[0].Version); err != nil {
					t.Error(err)
				}
			})
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			mustFired(t, hook, "the deletion between the checkout's answer and its journaling")
			got, err := e.h.Loan(t.Context(), "fake-a", l.ID)
			if err != nil || got.Status != host.StatusActive || l.Status != host.StatusActive {
				t.Fatalf("journal: %+v, %v; answered %s; want active", got, err, l.Status)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated)
		})
	}
}

// A return the library makes, and the distributor's notification of that
// same return, in both orders: the return stands, the loan is returned
// once, and the log holds one loan.returned.
func TestReturnAgainstItsOwnNotification(t *testing.T) {
	returned := []byte(`{"type":"return"}`)
	for _, driver := range casDrivers {
		t.Run(driver+"/notification between the return's read and its write", func(t *testing.T) {
			e, hs := startHooked(t, driver, fakeConfig(t))
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			var nerr error
			hook := hs.before(applying(sdk.EventLoanReturned, l.ID), func() {
				nerr = e.h.Notify(context.Background(), "fake-a", notifyToken(t, l), "POST", nil, returned)
			})
			got, err := e.h.Return(t.Context(), "fake-a", l.ID)
			mustFired(t, hook, "the notification between the return's read and its write")
			if nerr != nil {
				t.Fatal(nerr)
			}
			if err != nil || got.Status != host.StatusReturned {
				t.Fatalf("return of a loan its distributor notified returned meanwhile: %+v, %v; want the returned loan", got, err)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanReturned)
		})
		t.Run(driver+"/notification after the return", func(t *testing.T) {
			e, _ := startHooked(t, driver, fakeConfig(t))
			l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
			if _, err := e.h.Return(t.Context(), "fake-a", l.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.h.Notify(t.Context(), "fake-a", notifyToken(t, l), "POST", nil, returned); err != nil {
				t.Fatal(err)
			}
			mustEvents(t, e.h, l.ID, sdk.EventLoanCreated, sdk.EventLoanReturned)
		})
	}
}
