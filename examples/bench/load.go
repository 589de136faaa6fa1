package main

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is one path to measure: call makes one request and pids are the
// plugin processes behind it (their RSS and CPU are reported); reset, if
// set, drops what the calls left behind (the journal) after each slice.
type target struct {
	call  func(ctx context.Context) error
	pids  func() []int
	reset func()
	close func()
}

// row is one scenario at one concurrency.
type row struct {
	scenario string
	floor    string // the scenario its ratios are taken against ("" for a floor)
	conc     int

	calls      int64
	errors     int64
	firstError string
	elapsed    time.Duration
	p50, p99   time.Duration

	allocsPerCall float64 // this process: host, HTTP client and gRPC client side
	bytesPerCall  float64
	hostCPU       time.Duration // this process's CPU time per call
	gcCPU         time.Duration // of which the Go GC's (runtime/metrics)
	pluginCPU     time.Duration // the plugin processes' CPU time per call
}

func (r row) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.calls) / r.elapsed.Seconds()
}

// warmupFor is how long a target runs, unmeasured, before each measured
// slice: connections open, pools fill, caches warm again after the other
// targets ran.
func warmupFor(d time.Duration) time.Duration { return min(d/10, 100*time.Millisecond) }

// tally accumulates the measured slices of one scenario at one concurrency.
type tally struct {
	calls, errors      int64
	firstError         string
	elapsed            time.Duration
	lat                []time.Duration
	mallocs, bytes     uint64
	hostCPU, pluginCPU time.Duration
	gcCPU              time.Duration
	hostRSS, pluginRSS int64 // peak VmRSS of this process and of the plugins (summed), bytes
}

// slice runs conc clients calling t for d (after a short warm-up) and adds
// what it measured.
func (a *tally) slice(ctx context.Context, t *target, conc int, d time.Duration) {
	drive(ctx, t.call, conc, warmupFor(d), nil)
	var before, after runtime.MemStats
	pids := t.pids()
	hostCPU0, pluginCPU0, gcCPU0 := cpuTime(os.Getpid()), sumCPU(pids), gcCPU()
	sampler := startRSSSampler(pids)
	runtime.ReadMemStats(&before)
	start := time.Now()
	lat := make([][]time.Duration, conc)
	res := drive(ctx, t.call, conc, d, lat)
	a.elapsed += time.Since(start)
	runtime.ReadMemStats(&after)
	hostRSS, pluginRSS := sampler.stop()
	a.hostCPU += cpuTime(os.Getpid()) - hostCPU0
	a.pluginCPU += sumCPU(pids) - pluginCPU0
	a.gcCPU += gcCPU() - gcCPU0
	a.mallocs += after.Mallocs - before.Mallocs
	a.bytes += after.TotalAlloc - before.TotalAlloc
	a.hostRSS, a.pluginRSS = max(a.hostRSS, hostRSS), max(a.pluginRSS, pluginRSS)
	a.calls += res.ok + res.failed
	a.errors += res.failed
	if a.firstError == "" {
		a.firstError = res.firstError
	}
	for _, l := range lat {
		a.lat = append(a.lat, l...)
	}
	if t.reset != nil {
		t.reset()
	}
}

// row summarizes the slices.
func (a *tally) row(conc int) row {
	slices.Sort(a.lat)
	r := row{conc: conc, calls: a.calls, errors: a.errors, firstError: a.firstError, elapsed: a.elapsed,
		p50: percentile(a.lat, 0.50), p99: percentile(a.lat, 0.99)}
	if n := a.calls; n > 0 {
		r.allocsPerCall = float64(a.mallocs) / float64(n)
		r.bytesPerCall = float64(a.bytes) / float64(n)
		r.hostCPU = a.hostCPU / time.Duration(n)
		r.pluginCPU = a.pluginCPU / time.Duration(n)
		r.gcCPU = a.gcCPU / time.Duration(n)
	}
	return r
}

type driveResult struct {
	ok, failed int64
	firstError string
}

// drive runs conc clients calling fn until d has passed; with lat, client i
// records each call's latency in lat[i].
func drive(ctx context.Context, fn func(context.Context) error, conc int, d time.Duration, lat [][]time.Duration) driveResult {
	var ok, failed atomic.Int64
	var once sync.Once
	var first string
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			if lat != nil {
				mine = make([]time.Duration, 0, 8192)
			}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				err := fn(ctx)
				if lat != nil {
					mine = append(mine, time.Since(t0))
				}
				if err != nil {
					failed.Add(1)
					once.Do(func() { first = err.Error() })
					continue
				}
				ok.Add(1)
			}
			if lat != nil {
				lat[i] = mine
			}
		}()
	}
	wg.Wait()
	return driveResult{ok: ok.Load(), failed: failed.Load(), firstError: first}
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// gcCPU is the CPU time the Go GC has used in this process (an estimate
// the runtime keeps; GC work in the plugins is in their CPU time).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

func sumCPU(pids []int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		d += cpuTime(p)
	}
	return d
}

// rssSampler records the peak RSS of this process and of the plugins
// every 50 ms.
type rssSampler struct {
	stopCh         chan struct{}
	done           chan struct{}
	host, plugins  int64
	pids           []int
	sampleInterval time.Duration
}

func startRSSSampler(pids []int) *rssSampler {
	s := &rssSampler{stopCh: make(chan struct{}), done: make(chan struct{}), pids: pids, sampleInterval: 50 * time.Millisecond}
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.sampleInterval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stopCh:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	s.host = max(s.host, rss(os.Getpid()))
	var p int64
	for _, pid := range s.pids {
		p += rss(pid)
	}
	s.plugins = max(s.plugins, p)
}

func (s *rssSampler) stop() (host, plugins int64) {
	close(s.stopCh)
	<-s.done
	s.sample()
	return s.host, s.plugins
}
