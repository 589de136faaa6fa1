package journaltest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

func claim(scope, key, ref string, seconds int) journal.IdempotencyRecord {
	return journal.IdempotencyRecord{Scope: scope, Key: key, Fingerprint: "fp-" + ref, Ref: ref,
		CreatedAt: at(seconds), UpdatedAt: at(seconds)}
}

func testIdempotencyClaimCompleteRelease(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	if _, err := idempotency(t, s, "checkout", "k1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Idempotency of an empty store: %v, want ErrNotFound", err)
	}
	first := claim("checkout", "k1", "ln_A", 0)
	got, claimed, err := s.ClaimIdempotency(ctx, first, at(-60))
	if err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	mustJSON(t, got, first, "the claimed record")
	stored, err := idempotency(t, s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, first, "the stored claim")

	// A second claim while the first is in progress (not stale) loses and
	// sees the first.
	got, claimed, err = s.ClaimIdempotency(ctx, claim("checkout", "k1", "ln_B", 5), at(-55))
	if err != nil || claimed {
		t.Fatalf("second claim = %v, %v", claimed, err)
	}
	mustJSON(t, got, first, "the record a losing claim sees")

	// The same key in another scope is another record.
	other := claim("renew", "k1", "ln_C", 5)
	if _, claimed, err := s.ClaimIdempotency(ctx, other, at(-55)); err != nil || !claimed {
		t.Fatalf("claim in another scope = %v, %v", claimed, err)
	}

	done := first
	done.Outcome, done.Body, done.UpdatedAt = journal.OutcomeAnswer, []byte(`{"id":"ln_A","links":[]}`), at(2)
	if err := s.CompleteIdempotency(ctx, done); err != nil {
		t.Fatal(err)
	}
	stored, err = idempotency(t, s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, done, "the completed record")
	if string(stored.Body) != string(done.Body) {
		t.Fatalf("body %q, want %q", stored.Body, done.Body)
	}
	// A completed record is never taken over, however old.
	got, claimed, err = s.ClaimIdempotency(ctx, claim("checkout", "k1", "ln_D", 99999), at(99999))
	if err != nil || claimed {
		t.Fatalf("claim of a completed key = %v, %v", claimed, err)
	}
	mustJSON(t, got, done, "the record a claim of a completed key sees")
	// Nor released.
	if err := s.ReleaseIdempotency(ctx, "checkout", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := idempotency(t, s, "checkout", "k1"); err != nil {
		t.Fatalf("Release removed a completed record: %v", err)
	}

	// Releasing an in-progress claim lets a retry claim the key again.
	if err := s.ReleaseIdempotency(ctx, "renew", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := idempotency(t, s, "renew", "k1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Idempotency after Release: %v, want ErrNotFound", err)
	}
	retry := claim("renew", "k1", "ln_E", 10)
	if got, claimed, err := s.ClaimIdempotency(ctx, retry, at(-50)); err != nil || !claimed || got.Ref != "ln_E" {
		t.Fatalf("claim after Release = %+v, %v, %v", got, claimed, err)
	}
	if err := s.ReleaseIdempotency(ctx, "nothing", "here"); err != nil {
		t.Fatalf("releasing a missing key: %v", err)
	}
}

func testIdempotencyStaleTakeover(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	first := claim("checkout", "k1", "ln_A", 0)
	if _, claimed, err := s.ClaimIdempotency(ctx, first, at(-60)); err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	// UpdatedAt equal to staleBefore: not before it, so not stale.
	got, claimed, err := s.ClaimIdempotency(ctx, claim("checkout", "k1", "ln_B", 60), at(0))
	if err != nil || claimed {
		t.Fatalf("claim at the edge of staleness = %v, %v", claimed, err)
	}
	mustJSON(t, got, first, "the record a losing claim sees")

	// Its owner died: a later claim takes it over, keeping its Ref (and the
	// rest), with the new UpdatedAt.
	later := claim("checkout", "k1", "ln_C", 120)
	got, claimed, err = s.ClaimIdempotency(ctx, later, at(60))
	if err != nil || !claimed {
		t.Fatalf("claim of a stale key = %v, %v", claimed, err)
	}
	want := first
	want.UpdatedAt = later.UpdatedAt
	mustJSON(t, got, want, "the taken-over record")
	stored, err := idempotency(t, s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, want, "the stored taken-over record")
	// The new owner's claim is fresh again.
	if _, claimed, err := s.ClaimIdempotency(ctx, claim("checkout", "k1", "ln_D", 130), at(60)); err != nil || claimed {
		t.Fatalf("claim right after a takeover = %v, %v", claimed, err)
	}
}

func testIdempotencyPurge(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	put := func(key string, created, status int) {
		r := claim("checkout", key, "ln_"+key, created)
		if _, claimed, err := s.ClaimIdempotency(ctx, r, at(-1000)); err != nil || !claimed {
			t.Fatalf("claim %s = %v, %v", key, claimed, err)
		}
		if status != 0 {
			r.Outcome, r.Body = outcome(status), []byte(`{}`)
			if err := s.CompleteIdempotency(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("old-done", 0, 201)
	put("old-failed", 1, 409)
	put("old-dead", 2, 0) // in progress, no beat since 2: its owner died
	put("old-beating", 3, 0)
	if ok, err := s.RefreshIdempotency(ctx, "checkout", "old-beating", at(60)); err != nil || !ok {
		t.Fatalf("Refresh = %v, %v", ok, err)
	}
	put("new-done", 100, 200)
	put("edge-done", 50, 200) // created at t: not before it
	// A parked claim of unknown outcome expires with its key.
	parked := claim("checkout", "old-parked", "ln_old-parked", 4)
	parked.Unknown, parked.UpdatedAt = true, time.Unix(0, 0).UTC()
	if err := s.CompleteIdempotency(ctx, parked); err != nil {
		t.Fatal(err)
	}
	young := claim("checkout", "new-parked", "ln_new-parked", 100)
	young.Unknown, young.UpdatedAt = true, time.Unix(0, 0).UTC()
	if err := s.CompleteIdempotency(ctx, young); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeIdempotency(ctx, at(50))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("Purge removed %d records, want 4", n)
	}
	for key, kept := range map[string]bool{"old-done": false, "old-failed": false, "old-dead": false, "old-parked": false,
		"old-beating": true, "new-done": true, "edge-done": true, "new-parked": true} {
		_, err := idempotency(t, s, "checkout", key)
		if kept && err != nil {
			t.Errorf("%s: %v, want kept", key, err)
		}
		if !kept && !errors.Is(err, journal.ErrNotFound) {
			t.Errorf("%s: %v, want purged", key, err)
		}
	}
	if n, err := s.PurgeIdempotency(ctx, at(50)); err != nil || n != 0 {
		t.Fatalf("second Purge = %d, %v", n, err)
	}
}

// A claim's owner beats: RefreshIdempotency moves UpdatedAt of an
// in-progress record only, so that a beating claim is never stale.
func testIdempotencyHeartbeat(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	if ok, err := s.RefreshIdempotency(ctx, "checkout", "missing", at(1)); err != nil || ok {
		t.Fatalf("Refresh of a missing key = %v, %v, want false", ok, err)
	}
	first := claim("checkout", "k1", "ln_A", 0)
	if _, claimed, err := s.ClaimIdempotency(ctx, first, at(-60)); err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	if ok, err := s.RefreshIdempotency(ctx, "checkout", "k1", at(100)); err != nil || !ok {
		t.Fatalf("Refresh of an in-progress claim = %v, %v", ok, err)
	}
	want := first
	want.UpdatedAt = at(100)
	stored, err := idempotency(t, s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, want, "the refreshed claim")
	// Stale by its first UpdatedAt, fresh by its beat: not taken over.
	got, claimed, err := s.ClaimIdempotency(ctx, claim("checkout", "k1", "ln_B", 120), at(60))
	if err != nil || claimed {
		t.Fatalf("claim of a beating key = %v, %v", claimed, err)
	}
	mustJSON(t, got, want, "the record a losing claim sees")
	// A completed record does not beat.
	done := want
	done.Outcome, done.Body = journal.OutcomeAnswer, []byte(`{}`)
	if err := s.CompleteIdempotency(ctx, done); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RefreshIdempotency(ctx, "checkout", "k1", at(200)); err != nil || ok {
		t.Fatalf("Refresh of a completed key = %v, %v, want false", ok, err)
	}
	stored, err = idempotency(t, s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, done, "the completed record after a late beat")
}

// A claim whose call may have reached the distributor is parked (Status 0,
// Unknown, UpdatedAt at the epoch): the next claim takes it over at once
// with its Ref and its Unknown mark, and only one of several does.
func testIdempotencyParkedTakeover(t *testing.T, o *opened) {
	ctx := t.Context()
	first := claim("checkout", "k1", "ln_A", 0)
	if _, claimed, err := o.s.ClaimIdempotency(ctx, first, at(-60)); err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	parked := first
	parked.Unknown, parked.UpdatedAt = true, time.Unix(0, 0).UTC()
	if err := o.s.CompleteIdempotency(ctx, parked); err != nil {
		t.Fatal(err)
	}
	stored, err := idempotency(t, o.s, "checkout", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, stored, parked, "the parked claim")
	const n = 8
	var mu sync.Mutex
	won := 0
	errs := parallel(n, o.nodes(2), func(i int, s journal.Store) error {
		got, claimed, err := s.ClaimIdempotency(ctx, claim("checkout", "k1", name("ln", i), 5), at(1))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if claimed {
			won++
		}
		if got.Ref != "ln_A" || !got.Unknown {
			return errors.New("a claim saw Ref " + got.Ref + " or lost the unknown mark")
		}
		return nil
	})
	mustNoErrors(t, errs)
	if won != 1 {
		t.Fatalf("%d of %d claims took the parked key over, want 1", won, n)
	}
}

func testConcurrentClaims(t *testing.T, o *opened) {
	const n = 16
	var mu sync.Mutex
	won := 0
	refs := map[string]bool{}
	errs := parallel(n, o.nodes(2), func(i int, s journal.Store) error {
		got, claimed, err := s.ClaimIdempotency(t.Context(), claim("checkout", "k1", name("ln", i), 0), at(-60))
		mu.Lock()
		defer mu.Unlock()
		if claimed {
			won++
		}
		refs[got.Ref] = true
		return err
	})
	mustNoErrors(t, errs)
	if won != 1 {
		t.Fatalf("%d of %d concurrent claims won, want 1", won, n)
	}
	if len(refs) != 1 {
		t.Fatalf("concurrent claims saw %d different records, want the winner's", len(refs))
	}
}

func testConcurrentStaleTakeovers(t *testing.T, o *opened) {
	const n = 16
	ctx := t.Context()
	first := claim("checkout", "k1", "ln_A", 0)
	if _, claimed, err := o.s.ClaimIdempotency(ctx, first, at(-60)); err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	var mu sync.Mutex
	won := 0
	errs := parallel(n, o.nodes(2), func(i int, s journal.Store) error {
		got, claimed, err := s.ClaimIdempotency(ctx, claim("checkout", "k1", name("ln", i), 120+i), at(60))
		mu.Lock()
		defer mu.Unlock()
		if claimed {
			won++
		}
		if err == nil && got.Ref != "ln_A" {
			return errors.New("a claim saw Ref " + got.Ref + ", want the first claim's ln_A")
		}
		return err
	})
	mustNoErrors(t, errs)
	if won != 1 {
		t.Fatalf("%d of %d concurrent takeovers of a stale key won, want 1", won, n)
	}
}
