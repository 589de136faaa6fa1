package main

import (
	"fmt"
	"strings"
	"time"
)

// durableFloor is the least a durable checkout can take at one client on
// this disk: the bare call plus two syncs (pending, then active).
func (r *report) durableFloor() time.Duration {
	f, _ := r.find(rowFloorCheckout, 1)
	return f.p50 + 2*r.sync.dsync
}

// durableSection writes the disk's sync figures and each durable row
// beside the durable floor.
func (r *report) durableSection(w func(string, ...any)) {
	s := r.sync
	w("## The journal on disk\n\n")
	w("The disk under the journal (%s), probed before and after the scenarios (%d writes each; the lower median is kept):\n\n", s.dir, s.samples)
	w("| 4 KiB write, O_DSYNC (one sync) | 4 KiB write + fdatasync | one bolt journal write alone (PutLoan: an append to the journal's log and its sync) |\n|--:|--:|--:|\n")
	w("| %s | %s | %s |\n\n", fmtDur(s.dsync), fmtDur(s.fdatasync), fmtDur(s.boltCommit))
	w("A checkout is durable twice: pending before the distributor call, active with its event before the answer. On bolt each is an append to the journal's write-ahead log and one sync (shared by the checkouts that append meanwhile); the log is committed into the bbolt file in the background. ")
	w("Its **durable floor** at one client is the bare call plus two syncs: %s + 2 × %s = **%s**. ", fmtDur(r.durableFloor()-2*s.dsync), fmtDur(s.dsync), fmtDur(r.durableFloor()))
	w("The same path measured as one sequence (an O_DSYNC write, the bare call, another O_DSYNC write; %d times, p50) takes **%s**: ", s.samples, fmtDur(s.path))
	w("where that is more than the sum, a sync issued after the call, once the thread has waited on the plugin, costs more on this machine than one issued right after another, as the probes' are.\n\n")
	w("| checkout | clients | p50 | p50 × durable floor | calls/s | calls/s × floor's |\n|---|--:|--:|--:|--:|--:|\n")
	for _, sc := range []string{rowGoCheckout, rowGoCheckoutPG, rowPGAlone, rowHTTPCheckout, rowGoCheckoutMem} {
		for _, x := range r.rows {
			if x.scenario != sc {
				continue
			}
			f := r.floorOf(x)
			df := f.p50 + 2*s.dsync
			w("| %s | %d | %s | %.2f× (of %s) | %.0f | %.2f× |\n", x.scenario, x.conc, fmtDur(x.p50), ratio(float64(x.p50), float64(df)), fmtDur(df),
				x.throughput(), ratio(x.throughput(), f.throughput()))
		}
	}
	w("\nAt more than one client the durable floor is the bare call's p50 at that concurrency plus two syncs: concurrent checkouts share their syncs (bolt's log, PostgreSQL's group commit), so it bounds a call's latency, not the throughput.\n\n")
}

// journalTargets writes one table line per target for the journal on disk.
func (r *report) journalTargets(w func(string, ...any)) {
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	if x, ok := r.find(rowGoCheckout, 1); ok {
		v := ratio(float64(x.p50), float64(r.durableFloor()))
		w("| bolt checkout, one client: p50 ≤ %.1f × (floor + 2 syncs) | %s = %.2f × %s | %s |\n", targetBoltOneClient, fmtDur(x.p50), v, fmtDur(r.durableFloor()), mark(v <= targetBoltOneClient))
		w("| (beside it) bolt checkout, one client, over the same path measured as one sequence (sync, bare call, sync) | %s = %.2f × %s | — |\n", fmtDur(x.p50), ratio(float64(x.p50), float64(r.sync.path)), fmtDur(r.sync.path))
	}
	tput := func(sc string, target float64, label string) {
		x, ok1 := r.find(sc, 64)
		f, ok2 := r.find(rowFloorCheckout, 64)
		if ok1 && ok2 {
			v := ratio(x.throughput(), f.throughput())
			w("| %s, 64 clients: throughput ≥ %.2g × the floor's | %.0f/s = %.2f × %.0f/s | %s |\n", label, target, x.throughput(), v, f.throughput(), mark(v >= target))
		}
	}
	tput(rowGoCheckout, targetBoltThroughput, "bolt checkout")
	tput(rowGoCheckoutPG, targetPGThroughput, "PostgreSQL checkout")
	if x, ok := r.find(rowPGAlone, 64); ok {
		if f, ok := r.find(rowFloorCheckout, 64); ok {
			w("| (beside it) PostgreSQL alone, 64 clients: two durable commits of a small row a call, no host, no plugin | %.0f/s = %.2f × %.0f/s | — |\n", x.throughput(), ratio(x.throughput(), f.throughput()), f.throughput())
		}
	}
	tput(rowGoCheckoutMem, targetMemThroughput, "go api checkout, memory")
	if x, ok := r.find(rowHTTPCheckoutM, 1); ok {
		if f, ok := r.find(rowHTTPFloor, 1); ok {
			v := ratio(float64(x.p50), float64(f.p50))
			w("| http checkout (memory), one client: p50 ≤ %.1f × http → floor's | %s = %.2f × %s | %s |\n", targetHTTPOverFloor, fmtDur(x.p50), v, fmtDur(f.p50), mark(v <= targetHTTPOverFloor))
			if b, ok := r.find(rowHTTPCheckout, 1); ok {
				df := f.p50 + 2*r.sync.dsync
				w("| (beside it) http checkout on bolt, one client, over http → floor + 2 syncs | %s = %.2f × %s | — |\n", fmtDur(b.p50), ratio(float64(b.p50), float64(df)), fmtDur(df))
			}
		}
	}
	for _, m := range r.memory {
		if m.Scenario == rowGoCheckout {
			w("| host RSS at 64 clients, bolt store: < %s | %s (%d checkouts journaled during the run) | %s |\n", fmtMB(targetHostRSS), fmtMB(m.HostRSS), m.Calls, mark(m.HostRSS < targetHostRSS))
		}
	}
	for _, g := range r.growth {
		w("| %s loans, %s: a patron's loans, p50 < %s | %s | %s |\n", fmtCount(g.loans), g.store, fmtDur(targetGrowthP50), fmtDur(g.patronP50), mark(g.patronP50 < targetGrowthP50))
		w("| %s loans, %s: a page of 100 events after a cursor, p50 < %s | %s | %s |\n", fmtCount(g.loans), g.store, fmtDur(targetGrowthP50), fmtDur(g.eventsP50), mark(g.eventsP50 < targetGrowthP50))
	}
}

// growthMarkdown is the journal-growth section.
func growthMarkdown(rows []growthRow) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Journal growth\n\n")
	if len(rows) > 0 {
		w("Each store filled with %s loans, as many events (one loan.created each, with its dedupe key) and %s completed Idempotency-Keys: ", fmtCount(rows[0].loans), fmtCount(rows[0].loans/10))
	}
	w("%d loans a patron, 1 in 10 active (1 in 100 of those past its expiry), 1 in 2000 pending. ", growthPerPatron)
	w("Bolt is filled through the store's own calls by 512 writers at once (Apply, CompleteIdempotency), PostgreSQL by COPY into its tables. ")
	w("Each read is timed %d times at random patrons and cursors; a sweeper pass is its four queries (expired loans ≤ 500, pending loans ≤ 500, the Idempotency-Key purge, the event retention purge), timed 20 times.\n\n", growthSamples)
	w("| store | loans | filled in | size on disk | a patron's loans p50 / p99 | 100 events after a cursor p50 / p99 | a sweeper pass p50 |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, g := range rows {
		w("| %s | %s | %s | %s | %s / %s | %s / %s | %s |\n", g.store, fmtCount(g.loans), g.fill.Round(time.Second), fmtMB(g.size),
			fmtDur(g.patronP50), fmtDur(g.patronP99), fmtDur(g.eventsP50), fmtDur(g.eventsP99), fmtDur(g.sweepP50))
	}
	w("\nThe size of PostgreSQL is its database's (pg_database_size), tables and indexes. ")
	w("Events older than `store.event_retention` (default 90 days) and Idempotency-Keys older than `store.idempotency_ttl` are purged by the sweeper; bbolt reuses the freed pages but never shrinks its file: see the README's storage section for compaction.\n")
	return b.String()
}

func fmtCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%d M", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%d k", n/1000)
	}
	return fmt.Sprint(n)
}
