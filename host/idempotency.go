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

// flights makes a retry that arrives while the first request with the same
// key still runs wait for it, so the distributor is reached once.
type flights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newFlights() *flights { return &flights{m: map[string]chan struct{}{}} }

// begin returns done=nil and a release func when the caller owns the key, or
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
	if !errors.As(err, &e) {
		return false
	}
	return !retryable(e.Code) && e.Code != sdk.CodeUnauthorized && e.Code != sdk.CodeIdempotencyMismatch
}

func fingerprint(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotent runs fn at most once per (scope, key): a retry with the same
// fingerprint gets the stored answer (replayed=true), one with another
// fingerprint idempotency_mismatch. An empty key runs fn as is.
func idempotent[T any](ctx context.Context, h *Host, scope, key, fp string, fn func() (T, error)) (out T, replayed bool, err error) {
	if key == "" {
		out, err = fn()
		return out, false, err
	}
	if len(key) > maxIdempotencyKeyLen {
		return out, false, invalid("Idempotency-Key is longer than %d characters", maxIdempotencyKeyLen)
	}
	if err := checkText("Idempotency-Key", key, maxIdempotencyKeyLen); err != nil {
		return out, false, err
	}
	for {
		if rec, err := h.store.Idempotency(ctx, scope, key); err == nil {
			if rec.Fingerprint != fp {
				return out, false, sdk.Errorf(sdk.CodeIdempotencyMismatch, "this Idempotency-Key was used with a different request")
			}
			if rec.Status >= 400 {
				var se storedError
				if err := json.Unmarshal(rec.Body, &se); err != nil {
					return out, false, err
				}
				return out, true, &sdk.Error{Code: se.Code, ProviderCode: se.ProviderCode, Message: se.Message}
			}
			if err := json.Unmarshal(rec.Body, &out); err != nil {
				return out, false, err
			}
			return out, true, nil
		} else if !errors.Is(err, ErrNotFound) {
			return out, false, err
		}
		wait, release := h.flights.begin(scope + "\x00" + key)
		if wait != nil {
			select {
			case <-wait:
				continue // the first request finished: read its answer
			case <-ctx.Done():
				return out, false, sdk.Wrap(sdk.CodeTryLater, ctx.Err(), "a request with this Idempotency-Key is still running").WithRetryAfter(time.Second)
			}
		}
		defer release()
		out, err = fn()
		if !replayable(err) {
			return out, false, err
		}
		rec := IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp, Status: 200, CreatedAt: time.Now().UTC()}
		if err != nil {
			e := sdk.AsError(err)
			rec.Status = StatusOf(e.Code)
			rec.Body, _ = json.Marshal(storedError{Code: e.Code, ProviderCode: e.ProviderCode, Message: e.Message})
		} else if rec.Body, err = json.Marshal(out); err != nil {
			return out, false, err
		}
		if perr := h.store.PutIdempotency(ctx, rec); perr != nil {
			h.log.Error("storing idempotency record failed", "scope", scope, "error", perr)
		}
		return out, false, err
	}
}
