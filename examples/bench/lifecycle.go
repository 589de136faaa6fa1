package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// swapClients is the load a hot swap runs under.
const swapClients = 64

// swapResult is the hot swap scenario's outcome.
type swapResult struct {
	clients, swaps      int
	calls, failed       int64
	firstError          string
	overlapping         int           // calls that overlapped a swap window
	p99Swap, p99Steady  time.Duration // p99 of calls overlapping a swap, and of the others
	maxSwap             time.Duration // longest call overlapping a swap
	swapMedian, swapMax time.Duration // how long h.Reload took
}

type callSpan struct{ start, end time.Time }

// swapUnderLoad runs 64 clients checking out while the fake plugin is
// swapped v1→v2→v1… with h.Reload; every call must succeed.
func swapUnderLoad(ctx context.Context, v1, v2 string, swaps int) (swapResult, error) {
	h, err := fakeHost(ctx, memory.New(), v1)
	if err != nil {
		return swapResult{}, err
	}
	defer closeHost(h)
	res := swapResult{clients: swapClients, swaps: swaps}
	req := host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName}
	call := func(ctx context.Context) error {
		_, err := h.Checkout(ctx, fakeInstance, req)
		return err
	}
	drive(ctx, call, swapClients, 300*time.Millisecond, nil) // warm up

	stop := make(chan struct{})
	spans := make([][]callSpan, swapClients)
	var failed atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for i := range swapClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]callSpan, 0, 8192)
			for {
				select {
				case <-stop:
					spans[i] = mine
					return
				default:
				}
				t0 := time.Now()
				err := call(ctx)
				mine = append(mine, callSpan{t0, time.Now()})
				if err != nil {
					failed.Add(1)
					once.Do(func() { res.firstError = err.Error() })
				}
			}
		}()
	}
	var windows []callSpan
	var swapErr error
	const between = 400 * time.Millisecond
	time.Sleep(between) // steady traffic on v1 first
	for i := range swaps {
		next := v2
		if i%2 == 1 {
			next = v1
		}
		t0 := time.Now()
		_, err := h.ReloadConfig(ctx, "fake", host.PluginConfig{Path: next, Unpinned: true})
		windows = append(windows, callSpan{t0, time.Now()})
		if err != nil {
			swapErr = fmt.Errorf("swap %d: %w", i+1, err)
			break
		}
		time.Sleep(between)
	}
	close(stop)
	wg.Wait()
	if swapErr != nil {
		return res, swapErr
	}

	var during, steady []time.Duration
	for _, mine := range spans {
		for _, s := range mine {
			d := s.end.Sub(s.start)
			if slices.ContainsFunc(windows, func(w callSpan) bool { return s.start.Before(w.end) && s.end.After(w.start) }) {
				during = append(during, d)
			} else {
				steady = append(steady, d)
			}
		}
		res.calls += int64(len(mine))
	}
	slices.Sort(during)
	slices.Sort(steady)
	res.failed = failed.Load()
	res.overlapping = len(during)
	res.p99Swap, res.p99Steady = percentile(during, 0.99), percentile(steady, 0.99)
	if len(during) > 0 {
		res.maxSwap = during[len(during)-1]
	}
	took := make([]time.Duration, len(windows))
	for i, w := range windows {
		took[i] = w.end.Sub(w.start)
	}
	slices.Sort(took)
	res.swapMedian, res.swapMax = percentile(took, 0.5), took[len(took)-1]
	return res, nil
}

// crashClients poll the instance while its plugin is killed.
const crashClients = 8

// crashResult is the crash restart scenario's outcome.
type crashResult struct {
	clients, rounds int
	restart         []time.Duration // kill -9 → next successful call, per round
	failed          int64           // calls that failed (those in flight at the kill)
}

// crashRestart kills the fake plugin with SIGKILL rounds times while
// clients poll h.Checkout, and times each kill to the first successful
// call that started after it.
func crashRestart(ctx context.Context, path string, rounds int) (crashResult, error) {
	h, err := fakeHost(ctx, memory.New(), path)
	if err != nil {
		return crashResult{}, err
	}
	defer closeHost(h)
	res := crashResult{clients: crashClients, rounds: rounds}
	req := host.CheckoutRequest{Item: benchItem, Patron: benchPatron, PatronName: benchPatronName}

	var killedAt atomic.Int64 // unix ns of the current round's kill; 0 between rounds
	var firstOK atomic.Int64  // unix ns of the first success that started after it
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now().UnixNano()
				_, err := h.Checkout(ctx, fakeInstance, req)
				if err != nil {
					failed.Add(1)
					continue
				}
				if k := killedAt.Load(); k != 0 && t0 > k {
					firstOK.CompareAndSwap(0, time.Now().UnixNano())
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	time.Sleep(300 * time.Millisecond) // steady traffic first
	for i := range rounds {
		pids := pluginPIDs(h, fakeInstance)()
		if len(pids) == 0 {
			return res, fmt.Errorf("round %d: the plugin is not up", i+1)
		}
		proc, err := os.FindProcess(pids[0])
		if err != nil {
			return res, err
		}
		firstOK.Store(0)
		t0 := time.Now()
		if err := proc.Kill(); err != nil { // SIGKILL
			return res, fmt.Errorf("round %d: kill -9 %d: %w", i+1, pids[0], err)
		}
		killedAt.Store(time.Now().UnixNano())
		deadline := time.Now().Add(10 * time.Second)
		for firstOK.Load() == 0 {
			if time.Now().After(deadline) {
				return res, fmt.Errorf("round %d: no successful call within 10s of kill -9", i+1)
			}
			time.Sleep(time.Millisecond)
		}
		res.restart = append(res.restart, time.Unix(0, firstOK.Load()).Sub(t0))
		killedAt.Store(0)
		time.Sleep(300 * time.Millisecond) // steady traffic on the new process
	}
	res.failed = failed.Load()
	return res, nil
}

func (c crashResult) median() time.Duration {
	s := slices.Clone(c.restart)
	slices.Sort(s)
	return percentile(s, 0.5)
}

func (c crashResult) max() time.Duration {
	if len(c.restart) == 0 {
		return 0
	}
	return slices.Max(c.restart)
}
