package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - A journal write failure answers journal_unavailable (503, Retry-After
//     5 s; the store's own error is logged, never shown) and is never
//     counted by the breaker. The host's journal health turns bad on any
//     failed store write and good on the next successful one; while bad,
//     /readyz answers 503 {"status":"journal_unavailable"} and every sweep
//     probes the journal with a harmless claim-and-release.
//     Host.JournalWritable exposes it to embedders.
//   - The write that follows a distributor's answer is retried 4 times
//     within about a second (well inside the lease margin); if it still
//     fails, the loan is written as unknown (or, if even that fails, left
//     pending for the sweeper to turn unknown after the lease) and the
//     answer is journal_unavailable naming the loan.

// journalHealth says whether the journal writes: it turns false when a
// write fails and true again at the next write that succeeds (a request's,
// the sweeper's, or the sweeper's probe while it is failing). /readyz
// answers 503 while it is false, and for journalReadyHold after the last
// failure (api.md §7): a nearly full disk lets small writes through between
// failures, and a load balancer should not be told "ready" by each of them.
type journalHealth struct {
	failing    atomic.Bool
	lastFailed atomic.Int64 // unix nanoseconds of the last failed write
	log        hclog.Logger
	// changed wakes the sweeper when the journal starts failing (so that it
	// probes every journalProbeEvery) and when it writes again (so that
	// what it owes, owedLoans, is written at once).
	changed chan struct{}
}

// wake tells the sweeper that the journal's health changed.
func (j *journalHealth) wake() {
	select {
	case j.changed <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// journalReadyHold is how long /readyz stays 503 after a failed write: as
// long as journal_unavailable asks callers to wait.
const journalReadyHold = journalRetryAfter

// recentlyFailed reports whether a write failed within journalReadyHold.
func (j *journalHealth) recentlyFailed(now time.Time) bool {
	t := j.lastFailed.Load()
	return t != 0 && now.Sub(time.Unix(0, t)) < journalReadyHold
}

func (j *journalHealth) note(ctx context.Context, err error) {
	switch {
	case err == nil, errors.Is(err, journal.ErrConflict):
		// A conflict is the journal's answer to a write from a stale
		// read: it works.
		if j.failing.CompareAndSwap(true, false) {
			j.log.Info("journal writes again")
			j.wake()
		}
	case ctx.Err() != nil || errors.Is(err, ErrNotFound):
		// The caller gave up, or the record is not there: not the journal's fault.
	default:
		j.lastFailed.Store(time.Now().UnixNano())
		if j.failing.CompareAndSwap(false, true) {
			j.wake()
			j.log.Error("journal write failed: checkouts answer journal_unavailable and /readyz 503 until it writes again", "error", err)
		}
	}
}

// watchedStore is the host's store with every write reported to its
// journalHealth. Reads are not watched: a failing read answers its own
// error and says nothing of whether an order could be journaled.
type watchedStore struct {
	store
	health *journalHealth
}

// watchJournal wraps s so that its writes keep the host's journal health.
func watchJournal(s store, log hclog.Logger) *watchedStore {
	if w, ok := s.(*watchedStore); ok {
		return w
	}
	return &watchedStore{store: s, health: &journalHealth{log: log, changed: make(chan struct{}, 1)}}
}

func (w *watchedStore) PutLoan(ctx context.Context, r storedLoan) error {
	err := w.store.PutLoan(ctx, r)
	w.health.note(ctx, err)
	return err
}

func (w *watchedStore) DeleteLoan(ctx context.Context, provider, id string, version int64) error {
	err := w.store.DeleteLoan(ctx, provider, id, version)
	w.health.note(ctx, err)
	return err
}

func (w *watchedStore) Apply(ctx context.Context, r storedLoan, e Event, dedupeKey string) (Event, bool, error) {
	out, applied, err := w.store.Apply(ctx, r, e, dedupeKey)
	w.health.note(ctx, err)
	return out, applied, err
}

func (w *watchedStore) ClaimIdempotency(ctx context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (journal.IdempotencyRecord, bool, error) {
	out, claimed, err := w.store.ClaimIdempotency(ctx, r, staleBefore)
	w.health.note(ctx, err)
	return out, claimed, err
}

func (w *watchedStore) CompleteIdempotency(ctx context.Context, r journal.IdempotencyRecord) error {
	err := w.store.CompleteIdempotency(ctx, r)
	w.health.note(ctx, err)
	return err
}

func (w *watchedStore) RefreshIdempotency(ctx context.Context, scope, key string, at time.Time) (bool, error) {
	ok, err := w.store.RefreshIdempotency(ctx, scope, key, at)
	w.health.note(ctx, err)
	return ok, err
}

func (w *watchedStore) ReleaseIdempotency(ctx context.Context, scope, key string) error {
	err := w.store.ReleaseIdempotency(ctx, scope, key)
	w.health.note(ctx, err)
	return err
}

func (w *watchedStore) PurgeIdempotency(ctx context.Context, t time.Time) (int, error) {
	n, err := w.store.PurgeIdempotency(ctx, t)
	w.health.note(ctx, err)
	return n, err
}

// PurgeEvents passes the sweeper's event purge to the store (a journal
// that cannot purge purges nothing).
func (w *watchedStore) PurgeEvents(ctx context.Context, t time.Time) (int, error) {
	n, err := w.store.PurgeEvents(ctx, t)
	w.health.note(ctx, err)
	return n, err
}

// JournalWritable reports whether the journal's last write succeeded. While
// it is false, checkouts answer journal_unavailable without calling the
// distributor and /readyz answers 503.
func (h *Host) JournalWritable() bool {
	w, ok := h.store.(*watchedStore)
	return !ok || !w.health.failing.Load()
}

// readiness is what /readyz says: "ready", or why not.
func (h *Host) readiness() string {
	switch {
	case !h.Ready():
		return "starting"
	case !h.JournalWritable():
		return string(sdk.CodeJournalUnavailable)
	}
	if w, ok := h.store.(*watchedStore); ok && w.health.recentlyFailed(time.Now()) {
		return string(sdk.CodeJournalUnavailable)
	}
	return "ready"
}

// probeJournal makes one harmless write (a claim on a key of this node's,
// released at once) so that a journal that failed is seen writing again
// even when no request comes.
func (h *Host) probeJournal(ctx context.Context) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := time.Now().UTC()
	r := journal.IdempotencyRecord{Scope: "lendgate/probe", Key: hex.EncodeToString(b[:]), Fingerprint: "probe", CreatedAt: now, UpdatedAt: now}
	if _, _, err := h.store.ClaimIdempotency(ctx, r, now.Add(-time.Minute)); err != nil {
		return // noted as failing
	}
	_ = h.store.ReleaseIdempotency(ctx, r.Scope, r.Key)
}

// journalRetryAfter is the Retry-After of journal_unavailable: a disk that
// fills or a database that fails over is not back in a second.
const journalRetryAfter = 5 * time.Second

// journalUnavailable is the answer for a journal write that failed; the
// store's own error is logged, never shown.
func (h *Host) journalUnavailable(err error, what, provider, loan string) *sdk.Error {
	h.log.Error("journal write failed", "what", what, "provider", provider, "loan", loan, "error", err)
	return sdk.Wrap(sdk.CodeJournalUnavailable, err, "the host cannot write its journal (%s)", what).WithRetryAfter(journalRetryAfter)
}

// Bounds of the retries of a journal write that follows a distributor's
// answer: a few attempts within the request, well inside the lease margin
// (instance.lease) so that the sweeper does not take the loan for lost
// while they run.
const (
	journalAttempts     = 4
	journalFirstBackoff = 50 * time.Millisecond
	journalMaxBackoff   = 400 * time.Millisecond
)

// retryWrite runs write up to journalAttempts times with short backoff; it
// is for writes that must follow what the distributor already did. A
// conflict (journal.ErrConflict) is returned at once: the loan changed,
// and the caller reads it again (cas.go) rather than writing the same.
func retryWrite(ctx context.Context, write func(context.Context) error) error {
	b := newBackoff(journalFirstBackoff, journalMaxBackoff)
	var err error
	for i := range journalAttempts {
		if i > 0 {
			t := time.NewTimer(b.next())
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return errors.Join(err, ctx.Err())
			}
		}
		if err = write(ctx); err == nil || errors.Is(err, journal.ErrConflict) {
			return err
		}
	}
	return err
}

// owedLoans are loans the distributor may have placed whose status unknown
// could not be journaled (the journal failed after the answer, and again
// for the mark): they are pending in the journal. The sweeper writes them as
// unknown as soon as the journal writes again, without waiting for the
// lease after which it would take any pending loan for lost. Bounded: past
// maxOwedLoans the lease rule alone catches the rest.
type owedLoans struct {
	mu sync.Mutex
	m  map[string]storedLoan // provider + "/" + loan id
}

const maxOwedLoans = 10000

func (o *owedLoans) add(rec storedLoan) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]storedLoan{}
	}
	if len(o.m) >= maxOwedLoans {
		return false
	}
	o.m[rec.Loan.Provider+"/"+rec.Loan.ID] = rec
	return true
}

func (o *owedLoans) list() []storedLoan {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Collect(maps.Values(o.m))
}

func (o *owedLoans) done(rec storedLoan) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m, rec.Loan.Provider+"/"+rec.Loan.ID)
}

func (o *owedLoans) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.m)
}

// payOwed writes each owed loan as unknown, unless its checkout, another
// attempt or another node has journaled it since: the mark expects the
// pending record the checkout wrote, and gives way to any change of it.
func (h *Host) payOwed(ctx context.Context) {
	for _, rec := range h.owed.list() {
		err := h.store.PutLoan(ctx, rec)
		if errors.Is(err, journal.ErrConflict) {
			h.owed.done(rec)
			h.log.Debug("loan owed an unknown mark changed since: the mark gives way", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
			continue
		}
		if err != nil {
			return // still failing: next pass
		}
		h.owed.done(rec)
		h.log.Warn("loan outcome unknown: journaled once the journal wrote again", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
	}
}

// journalChanged is the channel that wakes the sweeper when the journal
// starts failing or writes again (nil, never ready, for a store without the
// watch).
func (h *Host) journalChanged() <-chan struct{} {
	if w, ok := h.store.(*watchedStore); ok {
		return w.health.changed
	}
	return nil
}

// journalProbeEvery is how often the sweeper probes a failing journal (and
// retries what it owes) instead of waiting for its interval.
const journalProbeEvery = time.Second

// putLoanLogged writes rec (a loan whose outcome is unknown) with
// compare-and-set: if the loan changed since it was read (the sweeper
// marked it, a resolution or another attempt settled it), the mark gives
// way to that change. If the journal fails, the mark is owed (payOwed).
func (h *Host) putLoanLogged(ctx context.Context, rec storedLoan) {
	err := retryWrite(ctx, func(ctx context.Context) error { return h.store.PutLoan(ctx, rec) })
	if errors.Is(err, journal.ErrConflict) {
		h.log.Info("loan changed since it was read: its unknown mark gives way", "provider", rec.Loan.Provider, "loan", rec.Loan.ID)
		return
	}
	if err != nil {
		h.owed.add(rec)
		h.log.Error("journaling loan of unknown outcome failed; it is written as soon as the journal writes again", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
	}
}

// apply journals a loan and its event in one transaction, then tells
// OnEvent. With a dedupe key seen before it changes nothing.
func (h *Host) apply(ctx context.Context, rec storedLoan, typ string, data map[string]string, dedupeKey string) (Event, bool, error) {
	l := rec.Loan
	if data == nil {
		data = map[string]string{}
	}
	e := Event{Type: typ, Provider: l.Provider, Loan: l.ID, Patron: l.Patron, Item: l.Item, At: time.Now().UTC(), Data: data}
	stored, applied, err := h.store.Apply(ctx, rec, e, dedupeKey)
	if err != nil {
		h.log.Error("journaling event failed", "type", typ, "provider", l.Provider, "loan", l.ID, "error", err)
		return Event{}, false, err
	}
	if applied {
		h.hooks.poke()
	}
	if applied && h.cfg.OnEvent != nil {
		h.cfg.OnEvent(stored)
	}
	return stored, applied, nil
}
