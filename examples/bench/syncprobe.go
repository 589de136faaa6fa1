package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
)

// syncResult is what a durable write costs on the disk the journal is on,
// measured in the same run as the scenarios: the durable floor of a
// checkout is the bare call plus two syncs (pending before the call,
// active with its event after).
type syncResult struct {
	dir        string
	samples    int
	dsync      time.Duration // p50 of a 4 KiB write to a file opened O_DSYNC
	fdatasync  time.Duration // p50 of a 4 KiB write then fdatasync
	boltCommit time.Duration // p50 of one bolt journal write (PutLoan: a log append and its sync), alone
	// path is the durable floor measured as one sequence rather than
	// summed: p50 of an O_DSYNC write, the bare checkout, another O_DSYNC
	// write. It differs from the sum where a sync after the call costs
	// more than one right after another (a disk or a virtual machine
	// that is slower to answer a thread that was idle).
	path time.Duration
}

// syncSamples bounds each probe loop.
const syncSamples = 400

// probeSync measures the four, syncSamples writes each, in dir; plugin is
// the floor's.
func probeSync(ctx context.Context, dir, plugin string) (syncResult, error) {
	res := syncResult{dir: dir, samples: syncSamples}
	f, err := os.CreateTemp(dir, "lendgate-sync-probe-")
	if err != nil {
		return res, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	// Preallocate, so that the probes rewrite blocks rather than grow the
	// file (as bbolt rewrites pages of a file it grows in large steps).
	for i := range 16 {
		if _, err := f.WriteAt(buf, int64(i)*4096); err != nil {
			return res, err
		}
	}
	if err := f.Sync(); err != nil {
		return res, err
	}
	if res.fdatasync, err = p50(ctx, func(i int) error {
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			return err
		}
		return fdatasync(f)
	}); err != nil {
		return res, fmt.Errorf("fdatasync probe: %w", err)
	}
	d, err := openDsync(f.Name())
	if err != nil {
		return res, err
	}
	defer d.Close()
	if res.dsync, err = p50(ctx, func(i int) error {
		_, err := d.WriteAt(buf, int64(i%16)*4096)
		return err
	}); err != nil {
		return res, fmt.Errorf("O_DSYNC probe: %w", err)
	}
	stop, prov, _, err := startPlugin(ctx, plugin)
	if err != nil {
		return res, err
	}
	defer stop()
	req := floorCheckoutRequest()
	if res.path, err = p50(ctx, func(i int) error {
		if _, err := d.WriteAt(buf, int64(i%16)*4096); err != nil {
			return err
		}
		if _, err := prov.Checkout(ctx, req); err != nil {
			return err
		}
		_, err := d.WriteAt(buf, int64((i+8)%16)*4096)
		return err
	}); err != nil {
		return res, fmt.Errorf("durable path probe: %w", err)
	}
	bdir, err := os.MkdirTemp(dir, "lendgate-sync-probe-bolt-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(bdir)
	s, err := bolt.Open(filepath.Join(bdir, "probe.db"))
	if err != nil {
		return res, err
	}
	defer s.Close()
	rec := journal.Loan{Provider: fakeInstance, Item: benchItem, Patron: benchPatron, Status: host.StatusPending,
		Format: benchFormat, CreatedAt: time.Now().UTC(), Links: []journal.Link{}, PatronKey: floorPatron, PatronName: benchPatronName}
	if res.boltCommit, err = p50(ctx, func(i int) error {
		rec.ID = fmt.Sprintf("ln_%026d", i)
		return s.PutLoan(ctx, rec)
	}); err != nil {
		return res, fmt.Errorf("bolt probe: %w", err)
	}
	return res, nil
}

// p50 runs fn syncSamples times and returns the median duration.
func p50(ctx context.Context, fn func(i int) error) (time.Duration, error) {
	lat := make([]time.Duration, 0, syncSamples)
	for i := range syncSamples {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := fn(i); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return percentile(lat, 0.5), nil
}

// mergeSync keeps, of two probes (before and after the matrix), the lower
// median of each: a lower sync makes a lower durable floor, so the rows
// measured against it are not flattered.
func mergeSync(a, b syncResult) syncResult {
	a.dsync = min(a.dsync, b.dsync)
	a.fdatasync = min(a.fdatasync, b.fdatasync)
	a.boltCommit = min(a.boltCommit, b.boltCommit)
	a.path = min(a.path, b.path)
	a.samples += b.samples
	return a
}
