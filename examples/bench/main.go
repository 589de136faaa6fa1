// Command bench measures what the lendgate host costs over a bare
// go-plugin call, on the journals a library runs (the default bolt file and
// PostgreSQL) beside the disk's own sync latency, how it scales with
// concurrency, how the journal holds up at a million loans, and what hot
// swaps and plugin crashes cost, all in one run on one machine.
//
//	go run -C examples/bench .                    # ~5 min on 2 cores
//	go run -C examples/bench . -duration 1s -conc 1,8 -journal-growth 0
//	go run -C examples/bench . -growth-only -journal-growth 200000
//
// Scenarios, each at every concurrency of -conc:
//
//   - floor: a bare go-plugin gRPC round trip (Provider.Checkout or
//     Provider.Fulfill) to the fake plugin, started exactly as the host
//     starts plugins; no host code in the path.
//   - go api: h.Checkout (and h.Fulfill on one existing loan) through the
//     limiter (lifted), the breaker and the deadline to the same plugin;
//     checkouts journaled on bolt (in -dir), on PostgreSQL (-postgres, or a
//     server started from the distribution's packages with durable
//     commits) and on the memory store (the reference: it keeps nothing).
//   - http: an HTTP client → h.Handler() → the same plugin, over loopback,
//     on bolt and on the memory store.
//   - full: http, with a real connector calling its simulator over
//     loopback HTTP, on bolt: the De Marque plugin (one call a checkout)
//     and the ODL plugin (two: the licence's info document, then its
//     borrow link).
//   - http → floor: the http scenario with the host taken out (a handler
//     making the floor's bare call), and http alone: the same client and
//     request against a handler that answers at once. They show which part
//     of http's cost is the host's.
//
// The scenarios run interleaved in rounds (-rounds), so that the ratios to
// the floor come from the same minutes, between two probes of the disk's
// sync latency (4 KiB O_DSYNC writes, write + fdatasync, one bolt write).
// Then each runs alone once more at
// 64 clients for its memory, in a fresh process of its own (VmRSS of that
// process and of the plugin). Last come a hot swap under load (64 clients,
// v1→v2→v1… with h.Reload) and crash restarts (kill -9 of the plugin, time
// to the next successful call), the webhook drains (webhooks.go: a
// 40k-event backlog on bolt delivered to a receiver on loopback answering
// in 1 ms, idle and under load at the default concurrency, and at
// concurrency 1; -webhooks-only runs them alone), and the journal growth:
// bolt and PostgreSQL filled with -journal-growth loans and events, a
// patron's loans, a page of events and a sweeper pass timed on them, with
// the size.
// It prints a markdown report and writes it to -out, with an SVG chart of
// throughput and p99 against concurrency next to it. It must run from
// inside the module (it builds the plugins with the go command) and uses
// loopback only.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Bounds on the flags, so that a run stays bounded in count and time.
const (
	maxDuration    = time.Minute
	maxConcurrency = 1024
	maxConcLevels  = 8
	maxRounds      = 50
)

type options struct {
	growth      int  // loans in the journal-growth scenario (0: skipped)
	growthOnly  bool // run the journal-growth scenario alone
	webhooks    bool // run the webhook drains
	hooksOnly   bool // run the webhook drains alone
	duration    time.Duration
	rounds      int
	out         string
	conc        []int
	swaps       int
	crashRounds int
}

func main() {
	var o options
	var conc string
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "how long each scenario runs at each concurrency")
	flag.IntVar(&o.rounds, "rounds", 3, "the duration is split into this many interleaved rounds per scenario")
	flag.StringVar(&o.out, "out", "", "the markdown report; the SVG chart is written next to it (default: docs/bench/results.md in the lendgate module)")
	flag.StringVar(&conc, "conc", "1,8,64", "comma-separated concurrency levels")
	flag.IntVar(&o.swaps, "swaps", 4, "hot swaps under load (v1→v2→v1…)")
	flag.IntVar(&o.crashRounds, "crash-rounds", 5, "kill -9 rounds of the crash restart scenario")
	flag.IntVar(&o.growth, "journal-growth", 1_000_000, "loans (and events) in the journal-growth scenario; 0 skips it")
	flag.BoolVar(&o.growthOnly, "growth-only", false, "run only the journal-growth scenario and print its table")
	flag.BoolVar(&o.webhooks, "webhooks", true, "run the webhook drains (a backlog of events delivered to a receiver on loopback)")
	flag.BoolVar(&o.hooksOnly, "webhooks-only", false, "run only the webhook drains and print their table")
	flag.StringVar(&benchDirFlag, "dir", "", "where the bolt files and the sync probe go (default: the temporary directory); put it on the journal's disk")
	flag.StringVar(&postgresFlag, "postgres", "", "a PostgreSQL DSN to benchmark against (default: start a server from the distribution's packages, with durable commits)")
	var child childFlags
	flag.StringVar(&child.scenario, "memory-child", "", "(internal) measure the memory of this one scenario and print it as JSON")
	flag.StringVar(&child.plugin, "memory-plugin", "", "(internal) the plugin binary of -memory-child")
	flag.Parse()
	if child.scenario != "" {
		if err := runMemoryChild(child, o.duration); err != nil {
			fatal(err)
		}
		return
	}
	var err error
	if o.conc, err = parseConc(conc); err != nil {
		fatal(err)
	}
	if o.duration <= 0 || o.duration > maxDuration {
		fatal(fmt.Errorf("-duration must be in (0, %s]", maxDuration))
	}
	if o.rounds < 1 || o.rounds > maxRounds || o.duration/time.Duration(o.rounds) < 50*time.Millisecond {
		fatal(fmt.Errorf("-rounds must be between 1 and %d, with rounds of at least 50ms", maxRounds))
	}
	if o.swaps < 1 || o.swaps > maxRounds || o.crashRounds < 1 || o.crashRounds > maxRounds {
		fatal(fmt.Errorf("-swaps and -crash-rounds must be between 1 and %d", maxRounds))
	}
	if o.growth < 0 || o.growth > maxGrowth || (o.growth > 0 && o.growth < 1000) {
		fatal(fmt.Errorf("-journal-growth must be 0 or between 1000 and %d", maxGrowth))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if o.hooksOnly {
		rep, err := webhooksOnly(ctx)
		if err != nil {
			fatal(err)
		}
		var b strings.Builder
		rep.webhookSection(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) })
		fmt.Print(b.String())
		return
	}
	if o.growthOnly {
		rows, err := journalGrowth(ctx, max(o.growth, 1000))
		if err != nil {
			fatal(err)
		}
		fmt.Print(growthMarkdown(rows))
		return
	}
	rep, err := run(ctx, o)
	if err != nil {
		fatal(err)
	}
	md := rep.markdown()
	fmt.Print(md)
	if o.out == "" {
		o.out = filepath.Join(lendgateDir(), "docs", "bench", "results.md")
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		fatal(err)
	}
	svg := filepath.Join(filepath.Dir(o.out), chartSVG)
	if err := rep.chart(svg); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s\n", o.out, svg)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func parseConc(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxConcurrency {
			return nil, fmt.Errorf("-conc: %q is not a concurrency between 1 and %d", f, maxConcurrency)
		}
		out = append(out, n)
	}
	if len(out) == 0 || len(out) > maxConcLevels {
		return nil, fmt.Errorf("-conc: give 1 to %d levels", maxConcLevels)
	}
	return out, nil
}

// run builds the plugins and runs every scenario in turn.
func run(ctx context.Context, o options) (*report, error) {
	rep := &report{machine: describeMachine(), opts: o, started: time.Now()}
	bins, err := newBuilder()
	if err != nil {
		return nil, err
	}
	defer bins.cleanup()
	progress("building plugins")
	fakeV1, err := bins.build("github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=1.0.0")
	if err != nil {
		return nil, err
	}
	fakeV2, err := bins.build("github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=2.0.0")
	if err != nil {
		return nil, err
	}
	demarque, err := bins.build("github.com/lendgate/lendgate/plugins/demarque", "")
	if err != nil {
		return nil, err
	}
	odl, err := bins.build("github.com/lendgate/lendgate/plugins/odl", "")
	if err != nil {
		return nil, err
	}

	progress("disk sync latency in %s", benchDir())
	syncBefore, err := probeSync(ctx, benchDir(), fakeV1)
	if err != nil {
		return nil, fmt.Errorf("sync probe: %w", err)
	}
	scenarios := scenarioList(fakeV1, demarque, odl)
	if rep.rows, err = matrix(ctx, scenarios, o); err != nil {
		return nil, err
	}
	syncAfter, err := probeSync(ctx, benchDir(), fakeV1)
	if err != nil {
		return nil, fmt.Errorf("sync probe: %w", err)
	}
	rep.sync = mergeSync(syncBefore, syncAfter)
	for _, s := range scenarios {
		switch s.name {
		case rowFloorFulfill, rowHTTPFloor, rowHTTPAlone, rowGoCheckoutPG, rowHTTPCheckoutM, rowPGAlone:
			// The floor's checkout shows a process without a host; the
			// postgres row's memory is the server's, and the memory store
			// has its go api row.
			continue
		}
		progress("%s: memory at %d clients, in a fresh process", s.name, memClients)
		m, err := memoryInChild(ctx, s.name, s.plugin, memoryDuration(o.duration))
		if err != nil {
			return nil, fmt.Errorf("%s: memory: %w", s.name, err)
		}
		rep.memory = append(rep.memory, m)
	}

	settle()
	progress("hot swap under load")
	if rep.swap, err = swapUnderLoad(ctx, fakeV1, fakeV2, o.swaps); err != nil {
		return nil, fmt.Errorf("swap: %w", err)
	}
	settle()
	progress("crash restart")
	if rep.crash, err = crashRestart(ctx, fakeV1, o.crashRounds); err != nil {
		return nil, fmt.Errorf("crash: %w", err)
	}
	if o.webhooks {
		settle()
		if rep.webhooks, err = webhookDrains(ctx, fakeV1); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
	}
	if o.growth > 0 {
		settle()
		if rep.growth, err = journalGrowth(ctx, o.growth); err != nil {
			return nil, fmt.Errorf("journal growth: %w", err)
		}
	}
	rep.elapsed = time.Since(rep.started)
	return rep, nil
}

// webhooksOnly builds the fake plugin and runs the webhook drains alone.
func webhooksOnly(ctx context.Context) (*report, error) {
	bins, err := newBuilder()
	if err != nil {
		return nil, err
	}
	defer bins.cleanup()
	fake, err := bins.build("github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "-X main.version=1.0.0")
	if err != nil {
		return nil, err
	}
	rep := &report{}
	rep.webhooks, err = webhookDrains(ctx, fake)
	return rep, err
}

// scenario is one path the matrix measures.
type scenario struct {
	name   string
	floor  string // the scenario its ratios are taken against
	plugin string // the plugin binary it runs
	setup  func(ctx context.Context, plugin string) (*target, error)
}

// scenarioList is every scenario of the matrix, in the report's order.
func scenarioList(fake, demarque, odl string) []scenario {
	return []scenario{
		{rowFloorCheckout, "", fake, floorCheckout},
		{rowFloorFulfill, "", fake, floorFulfill},
		{rowGoCheckout, rowFloorCheckout, fake, goCheckout(storeBolt)},
		{rowGoCheckoutPG, rowFloorCheckout, fake, goCheckout(storePostgres)},
		{rowGoCheckoutMem, rowFloorCheckout, fake, goCheckout(storeMemory)},
		{rowGoFulfill, rowFloorFulfill, fake, goFulfill},
		{rowHTTPCheckout, rowFloorCheckout, fake, httpCheckout(storeBolt)},
		{rowHTTPCheckoutM, rowFloorCheckout, fake, httpCheckout(storeMemory)},
		{rowFullCheckout, rowFloorCheckout, demarque, fullCheckout},
		{rowFullODL, rowFloorCheckout, odl, fullODL},
		{rowHTTPFloor, rowFloorCheckout, fake, httpFloor},
		{rowHTTPAlone, rowFloorCheckout, "", httpAlone},
		{rowPGAlone, rowFloorCheckout, "", pgAlone},
	}
}

// matrix measures every scenario at every concurrency. The scenarios run
// interleaved, in rounds of duration/rounds each, so that a drift in the
// machine's speed (other tenants, thermal) weighs on all of them alike and
// the ratios to the floor stay fair.
func matrix(ctx context.Context, scenarios []scenario, o options) ([]row, error) {
	targets := make([]*target, 0, len(scenarios))
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	for _, s := range scenarios {
		progress("%s: starting", s.name)
		t, err := s.setup(ctx, s.plugin)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		targets = append(targets, t)
	}
	rows := make([][]row, len(scenarios))
	slice := o.duration / time.Duration(o.rounds)
	for _, c := range o.conc {
		progress("concurrency %d: %d rounds of %s per scenario", c, o.rounds, slice)
		tallies := make([]tally, len(scenarios))
		for range o.rounds {
			for i, t := range targets {
				tallies[i].slice(ctx, t, c, slice)
			}
		}
		for i, s := range scenarios {
			r := tallies[i].row(c)
			r.scenario, r.floor = s.name, s.floor
			rows[i] = append(rows[i], r)
		}
	}
	var out []row
	for _, rs := range rows {
		out = append(out, rs...)
	}
	return out, nil
}

// settle returns the previous scenario's memory to the OS.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
