//go:build linux

package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// Issue #6: 50 concurrent checkouts with one Idempotency-Key → exactly one
// call upstream (the simulator's count) and 50 identical answers; on bolt,
// on postgres, and on postgres with the 50 split across two nodes.
func TestOneKeyFiftyConcurrentCheckouts(t *testing.T) {
	cases := []struct {
		name  string
		store func(testing.TB) host.StoreConfig
		nodes int
	}{
		{"bolt", boltStore, 1},
		{"postgres", postgresStore, 1},
		{"postgres-two-nodes", postgresStore, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, nil)
			// Long enough that all 50 are in flight before the one call
			// that reaches CB can answer.
			const latency = 500 * time.Millisecond
			s.SetFaults(cbsim.Faults{Latency: latency})
			cfg := baseConfig(t, c.store(t))
			cfg.Providers["cb"] = cbInstance(s)
			config := writeConfig(t, cfg)
			var nodes []*server
			for i := range c.nodes {
				nodes = append(nodes, startServer(t, fmt.Sprintf("node%d", i), config))
			}

			const n = 50
			key := "one-key-" + c.name
			body := checkoutBody(cbsim.EANAvailable, "patron-42")
			answers := make([]answer, n)
			var sent, firstDone atomic.Int64 // unix nanos: last request sent, first answer
			firstDone.Store(1 << 62)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for now := time.Now().UnixNano(); ; {
						cur := sent.Load()
						if now <= cur || sent.CompareAndSwap(cur, now) {
							break
						}
					}
					answers[i] = nodes[i%len(nodes)].do(http.MethodPost, "/v1/providers/cb/loans", body, key)
					for now := time.Now().UnixNano(); ; {
						cur := firstDone.Load()
						if now >= cur || firstDone.CompareAndSwap(cur, now) {
							break
						}
					}
				}()
			}
			close(start)
			wg.Wait()

			if sent.Load() >= firstDone.Load() {
				t.Errorf("the 50 requests did not overlap: the last was sent %v after the first answer",
					time.Duration(sent.Load()-firstDone.Load()))
			}
			var created []byte
			statuses := map[int]int{}
			for i, a := range answers {
				if a.err != nil {
					t.Fatalf("request %d: %v", i, a)
				}
				statuses[a.status]++
				if a.status == http.StatusCreated {
					created = a.body
				}
			}
			if statuses[http.StatusCreated] != 1 || statuses[http.StatusOK] != n-1 {
				t.Fatalf("statuses %v, want one 201 and %d 200s; e.g. %v", statuses, n-1, answers[0])
			}
			for i, a := range answers {
				if !bytes.Equal(a.body, created) {
					t.Errorf("answer %d (%d) differs from the 201:\n%s\nvs\n%s", i, a.status, a.body, created)
				}
				if a.status == http.StatusOK && a.header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("answer %d: 200 without Idempotent-Replayed: true", i)
				}
			}
			if got := s.CallsTo(cbsim.OpPlaceOrder); got != 1 {
				t.Errorf("CB received %d placeOrder calls, want exactly 1", got)
			}
			var l host.Loan
			if err := json.Unmarshal(created, &l); err != nil {
				t.Fatal(err)
			}
			orders := s.Orders()
			if len(orders) != 1 || orders[0].OrderReference != l.ID || orders[0].UserID != pseudonym("cb", "patron-42") {
				t.Errorf("CB's orders %+v, want one with OrderReference %s", orders, l.ID)
			}
			// Every node knows the loan, with one loan.created event.
			for _, node := range nodes {
				var got host.Loan
				node.getJSON("/v1/providers/cb/loans/"+l.ID, &got)
				if got.Status != host.StatusActive {
					t.Errorf("%s: loan %s is %q, want active", node.name, l.ID, got.Status)
				}
				if n := countEvents(node.events(), l.ID, "loan.created"); n != 1 {
					t.Errorf("%s: %d loan.created events for %s, want 1", node.name, n, l.ID)
				}
			}
		})
	}
}

func countEvents(evs []host.Event, loan, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Loan == loan && e.Type == typ {
			n++
		}
	}
	return n
}

// lendAttempt is one checkout a client sent, with its own Idempotency-Key
// and its own patron (so that CB's UserId names the request).
type lendAttempt struct {
	key, patron string
	body        []byte
	before      answer // the answer before the crash (err: lost)
	retry       answer // the answer to the same request after the restart
}

// Issue #6: kill -9 of examples/server while clients lend → after restart
// every loan that got a 201 is there, every acknowledged event is there
// once, and clients retrying with their keys create no second order
// upstream; for bolt and for postgres.
func TestKill9WhileLending(t *testing.T) {
	for _, c := range []struct {
		name  string
		store func(testing.TB) host.StoreConfig
		load  lendLoad
	}{
		{"bolt", boltStore, lendLoad{clients: 8, killAfter: 40, answerAfter: 40 * time.Millisecond}},
		{"postgres", postgresStore, lendLoad{clients: 8, killAfter: 40, answerAfter: 40 * time.Millisecond}},
		// Issue #12: 64 clients and a distributor answering at once keep
		// the journal's commits shared (bolt's group commit, PostgreSQL's
		// parallel commits): the kill lands on batched commits.
		{"bolt-batched", boltStore, lendLoad{clients: 64, killAfter: 400, answerAfter: time.Millisecond}},
		{"postgres-batched", postgresStore, lendLoad{clients: 64, killAfter: 400, answerAfter: time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testKill9WhileLending(t, c.store(t), c.load)
		})
	}
}

// lendLoad is how hard testKill9WhileLending lends before the kill.
type lendLoad struct {
	clients     int           // each with its own keys and patrons
	killAfter   int64         // 201s before the kill
	answerAfter time.Duration // CB's delay between committing an order and answering it
}

func testKill9WhileLending(t *testing.T, store host.StoreConfig, load lendLoad) {
	// CB commits each order at once and answers a little later, so that
	// the kill lands on orders placed whose answer the host never got.
	s := startSim(t, answerAfterCommit(load.answerAfter))
	in := cbInstance(s)
	// A short lease (max_wait + timeout + 5s = 6.1s), so that the loans
	// lost in the crash are old enough for the sweep at restart.
	in.Timeout = host.Duration(time.Second)
	in.Rate.MaxWait = host.Duration(100 * time.Millisecond)
	lease := time.Duration(in.Rate.MaxWait) + time.Duration(in.Timeout) + 5*time.Second
	cfg := baseConfig(t, store)
	cfg.Providers["cb"] = in
	config := writeConfig(t, cfg)
	srv := startServer(t, "server", config)
	pluginPID := srv.provider("cb").Plugin.PID
	if pluginPID <= 0 || processGone(pluginPID) {
		t.Fatalf("plugin pid %d is not running", pluginPID)
	}

	// Lend until the kill: each request with its own key and patron; a
	// client stops at its first lost answer.
	const perClient = 200
	clients, killAfter := load.clients, load.killAfter
	attempts := make([][]*lendAttempt, clients)
	var successes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for ci := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(20 * time.Second)
			for i := range perClient {
				select {
				case <-stop:
					return
				default:
				}
				if time.Now().After(deadline) {
					return
				}
				patron := fmt.Sprintf("c%d-r%d", ci, i)
				a := &lendAttempt{key: "key-" + patron, patron: patron, body: checkoutBody(cbsim.EANAvailable, patron)}
				attempts[ci] = append(attempts[ci], a)
				a.before = srv.do(http.MethodPost, "/v1/providers/cb/loans", a.body, a.key)
				if a.before.err != nil {
					return
				}
				if a.before.status == http.StatusCreated {
					successes.Add(1)
				}
			}
		}()
	}
	if !waitUntil(20*time.Second, func() bool { return successes.Load() >= killAfter }) {
		close(stop)
		wg.Wait()
		t.Fatalf("only %d successful checkouts before the kill", successes.Load())
	}
	// Events the API acknowledged before the crash.
	acked := srv.events()
	srv.kill9()
	killedAt := time.Now()
	close(stop)
	wg.Wait()

	// plugins.md: after kill -9 of the host, no plugin process survives.
	if !waitUntil(5*time.Second, func() bool { return processGone(pluginPID) }) {
		t.Errorf("plugin process %d survived kill -9 of its host", pluginPID)
	}

	var all []*lendAttempt
	byPseudonym := map[string]*lendAttempt{}
	lost := 0
	for _, as := range attempts {
		for _, a := range as {
			all = append(all, a)
			byPseudonym[pseudonym("cb", a.patron)] = a
			switch {
			case a.before.err != nil:
				lost++
			case a.before.status != http.StatusCreated:
				t.Errorf("before the crash, %s answered %v", a.key, a.before)
			}
		}
	}
	t.Logf("before the kill: %d requests, %d answered 201, %d answers lost, %d events acknowledged, %d orders at CB",
		len(all), successes.Load(), lost, len(acked), len(s.Orders()))

	// The sweep at start marks the loans lost in the crash unknown once they
	// are older than the lease: restart after it has passed.
	time.Sleep(time.Until(killedAt.Add(lease + 250*time.Millisecond))) // a fixed deadline, nothing to poll
	srv = startServer(t, "server-restarted", config)
	if !waitUntil(10*time.Second, func() bool { return len(srv.loansByStatus("cb", host.StatusPending)) == 0 }) {
		t.Errorf("loans still pending after the sweep at restart: %+v", srv.loansByStatus("cb", host.StatusPending))
	}

	// Every loan that got a 201 is there, active, as it was answered.
	for _, a := range all {
		if a.before.err != nil || a.before.status != http.StatusCreated {
			continue
		}
		var want, got host.Loan
		if err := json.Unmarshal(a.before.body, &want); err != nil {
			t.Fatal(err)
		}
		srv.getJSON("/v1/providers/cb/loans/"+want.ID, &got)
		if got.Status != host.StatusActive || got.Patron != a.patron || got.ProviderRef["cb_order_reference"] != want.ProviderRef["cb_order_reference"] {
			t.Errorf("acknowledged loan %s after restart: %+v, want active as answered %+v", want.ID, got, want)
		}
	}
	// Every acknowledged event is there, once.
	after := srv.events()
	checkEventsOnce(t, "after restart", after)
	byID := map[string]host.Event{}
	for _, e := range after {
		byID[e.ID] = e
	}
	for _, e := range acked {
		got, ok := byID[e.ID]
		if !ok || got.Cursor != e.Cursor || got.Loan != e.Loan || got.Type != e.Type {
			t.Errorf("acknowledged event %+v after restart: %+v (found %v)", e, got, ok)
		}
	}

	// Nothing is silently dropped: every order CB received has its loan in
	// the journal, active or unknown.
	journalHasEveryOrder(t, srv, s, byPseudonym, "before the retries")
	unknown := srv.loansByStatus("cb", host.StatusUnknown)
	t.Logf("after restart: %d loans unknown", len(unknown))

	// Every client retries every request with the same key and body.
	var rw sync.WaitGroup
	for _, as := range attempts {
		rw.Add(1)
		go func() {
			defer rw.Done()
			for _, a := range as {
				a.retry = srv.do(http.MethodPost, "/v1/providers/cb/loans", a.body, a.key)
			}
		}()
	}
	rw.Wait()
	seen := &counter{}
	for _, a := range all {
		r := a.retry
		switch {
		case r.err != nil:
			seen.add("lost")
			t.Errorf("retry of %s: %v", a.key, r)
			continue
		case r.status >= 400:
			seen.add(fmt.Sprintf("%d %s", r.status, r.code()))
		default:
			seen.add(fmt.Sprint(r.status))
		}
		acknowledged := a.before.err == nil && a.before.status == http.StatusCreated
		switch {
		case acknowledged:
			if r.status != http.StatusOK || !bytes.Equal(r.body, a.before.body) {
				t.Errorf("retry of acknowledged %s: %v, want 200 with the first answer %s", a.key, r, a.before.body)
			}
		case r.status == http.StatusOK || r.status == http.StatusCreated:
		case r.status == http.StatusConflict && r.code() == "duplicate_reference":
			// Acceptable only if CB holds one order for this key: checked below.
		default:
			t.Errorf("retry of %s (answer lost before the crash): %v, want 200/201 (or duplicate_reference)", a.key, r)
		}
	}
	t.Logf("retries answered: %v", seen)

	// No key produced two orders; every order is one key's; and each key's
	// answer names that order's loan.
	orders := s.Orders()
	perUser := map[string][]cbsim.Order{}
	for _, o := range orders {
		perUser[o.UserID] = append(perUser[o.UserID], o)
	}
	for user, ords := range perUser {
		a, ok := byPseudonym[user]
		if !ok {
			t.Errorf("CB orders %+v for a UserId no request had", ords)
			continue
		}
		if len(ords) != 1 {
			t.Errorf("key %s produced %d orders at CB: %+v", a.key, len(ords), ords)
		}
		var l host.Loan
		if a.retry.err == nil && (a.retry.status == http.StatusOK || a.retry.status == http.StatusCreated) &&
			json.Unmarshal(a.retry.body, &l) == nil && l.ID != ords[0].OrderReference {
			t.Errorf("key %s answered loan %s, but CB's order is %s", a.key, l.ID, ords[0].OrderReference)
		}
	}
	if len(orders) != len(perUser) {
		t.Errorf("%d orders at CB for %d distinct keys", len(orders), len(perUser))
	}
	for _, a := range all {
		if a.retry.err == nil && (a.retry.status == http.StatusOK || a.retry.status == http.StatusCreated) {
			if len(perUser[pseudonym("cb", a.patron)]) != 1 {
				t.Errorf("key %s answered %d but CB has no order for it", a.key, a.retry.status)
			}
		}
	}
	journalHasEveryOrder(t, srv, s, byPseudonym, "after the retries")
	final := srv.events()
	checkEventsOnce(t, "after the retries", final)
	// Every loan a client was told about (201 before the crash, 200/201 on
	// retry) has its loan.created event, once — or, for a loan the sweeper
	// resolved after the crash, its loan.resolved event instead.
	for _, a := range all {
		for _, r := range []answer{a.before, a.retry} {
			var l host.Loan
			if r.err != nil || (r.status != http.StatusOK && r.status != http.StatusCreated) || json.Unmarshal(r.body, &l) != nil {
				continue
			}
			if n := countEvents(final, l.ID, "loan.created") + countEvents(final, l.ID, "loan.resolved"); n != 1 {
				t.Errorf("loan %s (key %s, answered %d): %d loan.created or loan.resolved events, want 1", l.ID, a.key, r.status, n)
			}
		}
	}
	t.Logf("in all: %d keys, %d orders at CB (%d distinct keys reached it)", len(all), len(orders), len(perUser))
}

// journalHasEveryOrder checks that every order CB holds has its loan (the
// OrderReference is the loan id) in the journal, active or unknown, for
// the patron whose request placed it.
func journalHasEveryOrder(t *testing.T, srv *server, s *sim, byPseudonym map[string]*lendAttempt, when string) {
	t.Helper()
	missing := 0
	for _, o := range s.Orders() {
		a := byPseudonym[o.UserID]
		r := srv.do(http.MethodGet, "/v1/providers/cb/loans/"+o.OrderReference, nil, "")
		var l host.Loan
		if r.err != nil || r.status != http.StatusOK || json.Unmarshal(r.body, &l) != nil {
			missing++
			key, retry := "?", ""
			if a != nil {
				key, retry = a.key, a.retry.String()
			}
			t.Errorf("%s: CB holds order %s (CbOrderReference %s, key %s) but the journal answers %v; the key's retry got %s",
				when, o.OrderReference, o.CbOrderReference, key, r, retry)
			continue
		}
		if (l.Status != host.StatusActive && l.Status != host.StatusUnknown) || a == nil || l.Patron != a.patron {
			t.Errorf("%s: CB's order %s: journal loan %+v, want active or unknown for its request's patron", when, o.OrderReference, l)
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d orders placed at CB have no loan in the journal (silently dropped)", when, missing, len(s.Orders()))
	}
}

// checkEventsOnce checks that no loan has two events of one type.
func checkEventsOnce(t *testing.T, when string, evs []host.Event) {
	t.Helper()
	n := map[string]int{}
	for _, e := range evs {
		n[e.Loan+" "+e.Type]++
	}
	var dups []string
	for k, c := range n {
		if c > 1 {
			dups = append(dups, fmt.Sprintf("%s ×%d", k, c))
		}
	}
	sort.Strings(dups)
	if len(dups) > 0 {
		t.Errorf("%s: duplicated events: %v", when, dups)
	}
}
