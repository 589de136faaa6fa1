package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - Idempotency-Key replays successful answers and the distributor's final
//     refusals; answers that never reached the distributor or may succeed on
//     retry (rate_limited, circuit_open, plugin_unavailable before the call
//     was sent, try_later, provider_error, journal_unavailable before the
//     call) are not stored, so a retry tries again. Answers of a call that
//     may have reached the distributor keep the claim instead (see the
//     at-most-once bullets below). A retry that
//     arrives while the first request runs waits for it (on another node:
//     polling the store) rather than answering 409; if the caller gives up
//     first it gets try_later with Retry-After. Keys are scoped per
//     operation and provider instance.
//   - A claim's owner beats (refreshes its UpdatedAt) every lease/4 while
//     its call runs; a claim is taken over only when no beat came for the
//     instance's lease (max_wait + timeout + 5 s), i.e. its owner died. A
//     slow store delays beats, not correctness: it takes four missed beats.

// flights makes a retry that arrives on this node while the first request
// with the same key still runs wait for it without polling the store.
type flights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newFlights() *flights { return &flights{m: map[string]chan struct{}{}} }

// begin returns wait=nil and a release func when the caller owns the key, or
// a channel to wait on when another request holds it.
func (f *flights) begin(key string) (wait <-chan struct{}, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.m[key]; ok {
		return ch, nil
	}
	ch := make(chan struct{})
	f.m[key] = ch
	return nil, func() {
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(ch)
	}
}

// storedError is how a final refusal is kept for replay.
type storedError struct {
	Code         sdk.Code `json:"code"`
	ProviderCode string   `json:"provider_code,omitempty"`
	Message      string   `json:"message"`
}

// replayable reports whether an outcome is kept for the key: successes and
// final refusals, not answers a retry may change.
func replayable(err error) bool {
	if err == nil {
		return true
	}
	var e *sdk.Error
	if !errors.As(err, &e) || errors.Is(err, errOutcomeUnknown) {
		return false
	}
	return !e.Code.Retryable() && e.Code != sdk.CodeUnauthorized && e.Code != sdk.CodeIdempotencyMismatch
}

func fingerprint(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotencyPoll is how often a retry checks the store for the outcome of
// a first request running on another node.
const idempotencyPoll = 25 * time.Millisecond

// heartbeatsPerLease is how often a claim's owner beats within its lease: a
// claim is taken over only after several beats were missed.
const heartbeatsPerLease = 4

// parkedAt is the UpdatedAt of a parked claim (journal.IdempotencyRecord.Unknown):
// long stale, so that the next retry takes it over at once, atomically,
// through the store's ordinary takeover.
var parkedAt = time.Unix(0, 0).UTC()

// claim is what idempotent hands the call it runs under a key.
type claim struct {
	// ref is the reference reserved for the key (the loan id); every
	// attempt under the key uses it.
	ref string
	// takeover says an earlier attempt under the key ran and did not
	// finish with a kept answer: its owner died, or its outcome is unknown.
	takeover bool
	// unknown says the earlier attempt's call may have reached the
	// distributor without its outcome being known (a parked claim).
	unknown bool
}

// idempotent runs fn at most once per (scope, key) across every node
// sharing the store. fn receives the reference reserved for the request
// (the loan id); a retry after a crash or an unknown outcome reuses it. A
// retry with the same fingerprint gets the stored answer (replayed=true);
// one with another fingerprint idempotency_mismatch; one that arrives while
// the first runs waits for it. The owner of a claim beats (refreshes its
// UpdatedAt) while fn runs; a claim whose owner missed its beats for lease
// is taken over (its owner died). What fn answers decides what the key
// keeps (settle): the answer, nothing (released), or, when the call may
// have reached the distributor, the claim itself, parked until the key
// expires. An empty key runs fn as is.
func idempotent[T any](ctx context.Context, h *Host, scope, key, fp string, lease time.Duration, fn func(c claim) (T, error)) (out T, replayed bool, err error) {
	if key == "" {
		out, err = fn(claim{ref: newLoanID()})
		return out, false, err
	}
	if err := checkText("Idempotency-Key", key, maxIdempotencyKeyLen); err != nil {
		return out, false, err
	}
	for {
		wait, release := h.flights.begin(scope + "\x00" + key)
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return out, false, inProgress(ctx)
			}
		}
		now := time.Now().UTC()
		ref := newLoanID()
		rec, claimed, err := h.store.ClaimIdempotency(ctx, journal.IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp,
			Ref: ref, CreatedAt: now, UpdatedAt: now}, now.Add(-lease))
		if err != nil {
			release()
			if ctx.Err() != nil {
				return out, false, inProgress(ctx)
			}
			return out, false, h.journalUnavailable(err, "claiming the Idempotency-Key", scope, "")
		}
		if rec.Fingerprint != fp {
			// Another request's key (if its claim was stale and just taken
			// over, it keeps its reference for that request's own retry).
			if claimed {
				h.putBack(ctx, rec)
			}
			release()
			return out, false, sdk.Errorf(sdk.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request")
		}
		if !claimed {
			release()
			if rec.Done() {
				out, err = replay[T](rec)
				return out, true, err
			}
			// In progress on another node: poll until it is done or stale.
			t := time.NewTimer(idempotencyPoll)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return out, false, inProgress(ctx)
			}
		}
		c := claim{ref: rec.Ref, takeover: rec.Ref != ref, unknown: rec.Unknown}
		stop := h.heartbeat(ctx, rec, lease/heartbeatsPerLease)
		out, err = fn(c)
		stop()
		h.settle(ctx, rec, out, err)
		release()
		return out, false, err
	}
}

func inProgress(ctx context.Context) error {
	return sdk.Wrap(sdk.CodeTryLater, ctx.Err(), "a request with this Idempotency-Key is still running").WithRetryAfter(time.Second)
}

// heartbeat refreshes the claim's UpdatedAt every interval until the
// returned func is called (which waits for the last beat, so that no beat
// lands after settle). A slow store delays beats, never a takeover: only
// lease without a beat makes a claim stale.
func (h *Host) heartbeat(ctx context.Context, rec journal.IdempotencyRecord, interval time.Duration) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	ctx = context.WithoutCancel(ctx)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if _, err := h.store.RefreshIdempotency(ctx, rec.Scope, rec.Key, time.Now().UTC()); err != nil {
					h.log.Warn("idempotency heartbeat failed", "scope", rec.Scope, "error", err)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// settle stores the outcome of a claimed key: the answer when it is kept;
// the claim, parked, when the call may have reached the distributor (now or
// in an earlier attempt whose claim this one took over) and no answer says
// what happened; else nothing (the claim is released and a retry runs
// again).
func (h *Host) settle(ctx context.Context, rec journal.IdempotencyRecord, out any, err error) {
	ctx = context.WithoutCancel(ctx)
	switch {
	case errors.Is(err, errOutcomeUnknown), rec.Unknown && !replayable(err):
		h.park(ctx, rec)
		return
	case !replayable(err):
		if rerr := h.store.ReleaseIdempotency(ctx, rec.Scope, rec.Key); rerr != nil {
			h.log.Error("releasing idempotency key failed", "scope", rec.Scope, "error", rerr)
		}
		return
	}
	rec.Outcome = journal.OutcomeAnswer
	rec.Unknown = false
	rec.UpdatedAt = time.Now().UTC()
	if err != nil {
		e := sdk.AsError(err)
		rec.Outcome = journal.OutcomeRefusal
		rec.Body, _ = json.Marshal(storedError{Code: e.Code, ProviderCode: e.ProviderCode, Message: e.Message})
	} else {
		rec.Body, _ = json.Marshal(out)
	}
	if cerr := retryWrite(ctx, func(ctx context.Context) error { return h.store.CompleteIdempotency(ctx, rec) }); cerr != nil {
		h.log.Error("storing idempotency record failed", "scope", rec.Scope, "error", cerr)
	}
}

// park keeps a claim whose call may have reached the distributor, with its
// Ref, until the key expires. If even that cannot be written, the claim
// stays in progress without a heartbeat: a retry takes it over after the
// lease and finds the loan's journal trace (or the claim's) to go by.
func (h *Host) park(ctx context.Context, rec journal.IdempotencyRecord) {
	rec.Unknown = true
	rec.Outcome, rec.Body = journal.OutcomeNone, nil
	rec.UpdatedAt = parkedAt
	if err := retryWrite(ctx, func(ctx context.Context) error { return h.store.CompleteIdempotency(ctx, rec) }); err != nil {
		h.log.Error("keeping the claim of an unknown outcome failed", "scope", rec.Scope, "error", err)
	}
}

// putBack returns a claim taken over by a request with another fingerprint
// to what it was: a parked claim stays parked; a stale one stays stale.
func (h *Host) putBack(ctx context.Context, rec journal.IdempotencyRecord) {
	if !rec.Unknown {
		rec.Unknown = true // its owner died mid-call: it may have reached the distributor
	}
	h.park(context.WithoutCancel(ctx), rec)
}
func replay[T any](rec journal.IdempotencyRecord) (out T, err error) {
	if rec.Outcome == journal.OutcomeRefusal {
		var se storedError
		if err := json.Unmarshal(rec.Body, &se); err != nil {
			return out, err
		}
		return out, &sdk.Error{Code: se.Code, ProviderCode: se.ProviderCode, Message: se.Message}
	}
	err = json.Unmarshal(rec.Body, &out)
	return out, err
}
