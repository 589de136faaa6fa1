package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

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

// idempotent runs fn at most once per (scope, key) across every node
// sharing the store. fn receives the reference reserved for the request
// (the loan id); a retry after a crash reuses it. A retry with the same
// fingerprint gets the stored answer (replayed=true); one with another
// fingerprint idempotency_mismatch; one that arrives while the first runs
// waits for it. lease is how long a claim can be in progress before a retry
// may take it over (its owner must have died). An empty key runs fn as is.
func idempotent[T any](ctx context.Context, h *Host, scope, key, fp string, lease time.Duration, fn func(ref string) (T, error)) (out T, replayed bool, err error) {
	if key == "" {
		out, err = fn(newLoanID())
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
		rec, claimed, err := h.store.ClaimIdempotency(ctx, IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp,
			Ref: newLoanID(), CreatedAt: now, UpdatedAt: now}, now.Add(-lease))
		if err != nil {
			release()
			return out, false, err
		}
		if rec.Fingerprint != fp {
			// Another request's key (if its claim was stale and just taken
			// over, it keeps its reference for that request's own retry).
			release()
			return out, false, sdk.Errorf(sdk.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request")
		}
		if !claimed {
			release()
			if rec.Status != 0 {
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
		out, err = fn(rec.Ref)
		h.settle(ctx, rec, out, err)
		release()
		return out, false, err
	}
}

func inProgress(ctx context.Context) error {
	return sdk.Wrap(sdk.CodeTryLater, ctx.Err(), "a request with this Idempotency-Key is still running").WithRetryAfter(time.Second)
}

// settle stores the outcome of a claimed key, or releases the claim when
// the outcome is not kept.
func (h *Host) settle(ctx context.Context, rec IdempotencyRecord, out any, err error) {
	ctx = context.WithoutCancel(ctx)
	if !replayable(err) {
		if rerr := h.store.ReleaseIdempotency(ctx, rec.Scope, rec.Key); rerr != nil {
			h.log.Error("releasing idempotency key failed", "scope", rec.Scope, "error", rerr)
		}
		return
	}
	rec.Status = 200
	rec.UpdatedAt = time.Now().UTC()
	if err != nil {
		e := sdk.AsError(err)
		rec.Status = StatusOf(e.Code)
		rec.Body, _ = json.Marshal(storedError{Code: e.Code, ProviderCode: e.ProviderCode, Message: e.Message})
	} else {
		rec.Body, _ = json.Marshal(out)
	}
	if cerr := h.store.CompleteIdempotency(ctx, rec); cerr != nil {
		h.log.Error("storing idempotency record failed", "scope", rec.Scope, "error", cerr)
	}
}

func replay[T any](rec IdempotencyRecord) (out T, err error) {
	if rec.Status >= 400 {
		var se storedError
		if err := json.Unmarshal(rec.Body, &se); err != nil {
			return out, err
		}
		return out, &sdk.Error{Code: se.Code, ProviderCode: se.ProviderCode, Message: se.Message}
	}
	err = json.Unmarshal(rec.Body, &out)
	return out, err
}
