package host

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Pages of the event log a driver reads: into its window, and past it to
// count the queue when the window is full.
const (
	webhookReadPage  = 256
	webhookCountPage = 1000
)

// webhookSession is one endpoint's delivery on this node while it holds the
// endpoint's lease. Its goroutine (run) owns every field: attempts run in
// goroutines of their own and report on results, journal writes on saved.
type webhookSession struct {
	w   *webhooks
	ep  *webhookEndpoint
	st  webhookState // the journaled fields as this node has them
	win *deliveryWindow

	held       bool      // the lease is this node's (false once lost)
	leaseUntil time.Time // as last written
	// inherit is the journaled failing-since of the first wanted event
	// after the cursor, handed to it once it is read.
	inherit time.Time

	inFlight int
	results  chan webhookAttempt
	// The endpoint's own backoff: after a failure (failing), one attempt
	// at a time, none before pauseUntil; strikes counts the failed probes
	// in a row and sets the pause.
	failing    bool
	strikes    int
	pauseUntil time.Time
	nextDue    time.Time // the earliest retry waiting on its delay

	// unread and uncounted: the log may hold events past the window's
	// last (readPos), past the last counted (countedPos); set when told of
	// new events (a poke, the poll), cleared when a read finds the end.
	unread, uncounted bool
	dirty             bool // st or the cursor changed since the last write
	saving            bool
	saved             chan webhookSave
	lastSave          time.Time
	stopping          bool // lease lost or journal failing: finish the attempts in flight, then end
}

// webhookAttempt is the outcome of one attempt; probe says it was sent
// while the endpoint was failing.
type webhookAttempt struct {
	e     *windowEntry
	res   webhookResult
	probe bool
}

type webhookSave struct {
	st    webhookState
	until time.Time
	err   error
}

func newWebhookSession(w *webhooks, ep *webhookEndpoint, st webhookState, leaseUntil time.Time) *webhookSession {
	s := &webhookSession{w: w, ep: ep, st: st, win: newDeliveryWindow(st.Cursor), held: true, leaseUntil: leaseUntil,
		inherit: st.EventFailingSince, results: make(chan webhookAttempt, maxWebhookConcurrency),
		saved: make(chan webhookSave, 1), unread: true, uncounted: true, lastSave: time.Now()}
	if st.Attempts > 0 {
		// Failing when it was journaled: probe at once, backing off from
		// where it stood.
		s.failing, s.strikes = true, st.Attempts
	}
	return s
}

// run delivers until ctx ends or the lease or the journal fails; the
// attempts in flight finish either way, and at ctx's end what they did is
// journaled.
func (s *webhookSession) run(ctx context.Context) {
	defer s.ep.queued.Store(0)
	poll := time.NewTicker(s.w.timing.poll)
	defer poll.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for ctx.Err() == nil && !s.stopping {
		if s.wantRead() {
			s.read(ctx)
		}
		now := time.Now()
		s.dispatch(ctx, now)
		if s.win.advance() {
			s.dirty = true
		}
		s.publish()
		s.save(ctx, now, false)
		if s.takeReady() || s.wantRead() {
			continue // more to read, or outcomes taken: look again at once
		}
		wake.Reset(s.nextWake(now))
		select {
		case r := <-s.results:
			s.handle(r)
		case sv := <-s.saved:
			s.saveDone(sv)
		case <-s.ep.poke:
			s.unread, s.uncounted = true, true
		case <-poll.C:
			s.unread, s.uncounted = true, true
		case <-wake.C:
		case <-ctx.Done():
		}
	}
	// Let the attempts in flight finish (each within its timeout) and the
	// write under way land, then journal what they did.
	for s.inFlight > 0 || s.saving {
		select {
		case r := <-s.results:
			s.handle(r)
		case sv := <-s.saved:
			s.saveDone(sv)
		}
	}
	if s.win.advance() {
		s.dirty = true
	}
	if s.held && !s.stopping && s.dirty {
		s.save(ctx, time.Now(), true)
		s.saveDone(<-s.saved)
	}
}

// takeReady takes the outcomes and the write that are in already, without
// waiting; true when there were any.
func (s *webhookSession) takeReady() bool {
	took := false
	for {
		select {
		case r := <-s.results:
			s.handle(r)
		case sv := <-s.saved:
			s.saveDone(sv)
		default:
			return took
		}
		took = true
	}
}

// wantRead says whether there is reading to do: events known (counted)
// or maybe past the window while it has room, or maybe past the count
// while it is full.
func (s *webhookSession) wantRead() bool {
	if s.win.room() > 0 {
		return s.unread || cursorBefore(s.win.readPos, s.win.countedPos)
	}
	return s.uncounted
}

// read reads the next page of the log into the window or, when the window
// is full, counts the next page past what was counted.
func (s *webhookSession) read(ctx context.Context) {
	room := s.win.room()
	from, n := s.win.readPos, min(room, webhookReadPage)
	if room == 0 {
		from, n = s.win.countedPos, webhookCountPage
	}
	evs, err := s.w.journal.Events(ctx, from, n)
	if err != nil {
		if ctx.Err() == nil {
			s.w.log.Warn("reading the event log for webhooks failed", "endpoint", s.ep.name, "error", err)
		}
		s.unread, s.uncounted = false, false // again at the next poll
		return
	}
	if room == 0 {
		s.win.count(evs, s.ep.wants)
		if len(evs) < n {
			s.uncounted = false // every event is counted
		}
		return
	}
	first := len(s.win.entries)
	s.win.add(evs, s.ep.wants)
	if !s.inherit.IsZero() {
		s.handOn(first)
	}
	if len(evs) < n {
		// The end of the log: whatever was counted past the window and
		// is not there any more was purged.
		s.win.caughtUp()
		s.unread, s.uncounted = false, false
	}
}

// handOn gives the journaled failing-since to the first wanted event after
// the cursor, among the entries from first: the event the endpoint was
// retrying, whose give-up clock keeps running across a restart.
func (s *webhookSession) handOn(first int) {
	for _, e := range s.win.entries[first:] {
		if e.ev != nil {
			e.firstFailure, e.attempts = s.inherit, max(s.st.Attempts, 1)
			s.inherit = time.Time{}
			return
		}
	}
}

// dispatch starts the attempts that may start now: up to the endpoint's
// concurrency, or while failing one probe after the pause, preferring an
// event not tried yet.
func (s *webhookSession) dispatch(ctx context.Context, now time.Time) {
	s.nextDue = time.Time{}
	if s.stopping || ctx.Err() != nil {
		return
	}
	strict := s.ep.concurrency == 1
	if s.failing {
		if s.inFlight > 0 || now.Before(s.pauseUntil) {
			return
		}
		var fresh, retry *windowEntry
		s.nextDue = s.win.ready(now, strict, func(e *windowEntry) bool {
			if e.attempts == 0 {
				fresh = e
				return false
			}
			if retry == nil {
				retry = e
			}
			return true
		})
		if e := cmpOr(fresh, retry); e != nil {
			s.send(ctx, e, true)
		}
		return
	}
	if s.inFlight >= s.ep.concurrency {
		return
	}
	s.nextDue = s.win.ready(now, strict, func(e *windowEntry) bool {
		s.send(ctx, e, false)
		return s.inFlight < s.ep.concurrency
	})
}

func cmpOr(a, b *windowEntry) *windowEntry {
	if a != nil {
		return a
	}
	return b
}

// send starts an attempt at e. Close lets it finish (within its timeout)
// and journals its outcome: cutting it off could lose a 2xx that the
// receiver already sent, and the event would come again.
func (s *webhookSession) send(ctx context.Context, e *windowEntry, probe bool) {
	e.flight = true
	s.inFlight++
	body, err := json.Marshal(e.ev)
	if err != nil { // an Event always marshals; keep the loop honest anyway
		s.results <- webhookAttempt{e: e, res: webhookResult{kind: "connection", detail: "encoding the event failed"}, probe: probe}
		return
	}
	go func() {
		res := s.w.client.send(context.WithoutCancel(ctx), s.ep, e.ev.ID, body)
		s.results <- webhookAttempt{e: e, res: res, probe: probe}
	}()
}

// handle takes an attempt's outcome: the event is delivered, given up, or
// waits for its retry; the endpoint backs off after a failure.
func (s *webhookSession) handle(a webhookAttempt) {
	w, ep, e, res := s.w, s.ep, a.e, a.res
	s.inFlight--
	e.flight = false
	s.dirty = true
	now := time.Now().UTC()
	w.metrics.attempt(ep, res)
	if res.kind == "" {
		s.win.finish(e)
		s.st.Attempts, s.st.LastSuccess = 0, now
		s.st.FailingSince, s.st.LastError, s.st.LastStatus = time.Time{}, "", res.status
		s.failing, s.strikes, s.pauseUntil = false, 0, time.Time{}
		w.log.Debug("webhook delivered", "endpoint", ep.name, "event", e.ev.ID, "status", res.status, "duration", res.took)
		return
	}
	e.attempts++
	if e.firstFailure.IsZero() {
		e.firstFailure = now
	}
	s.st.Attempts++
	s.st.LastError, s.st.LastStatus = res.kind, res.status
	if s.st.FailingSince.IsZero() {
		s.st.FailingSince = now
	}
	// The endpoint's backoff grows with the probes that failed, not with
	// the attempts that were already in flight when the first failed.
	switch {
	case !s.failing:
		s.failing, s.strikes = true, 1
	case a.probe:
		s.strikes++
	}
	s.pauseUntil = later(s.pauseUntil, now.Add(webhookDelay(w.timing.first, w.timing.max, s.strikes)))
	deadline := e.firstFailure.Add(w.timing.giveUp)
	if !now.Before(deadline) {
		s.win.finish(e)
		s.st.GivenUp++
		w.metrics.givenUp(ep)
		w.log.Error("webhook event given up", "endpoint", ep.name, "event", e.ev.ID,
			"failing_for", w.timing.giveUp.String(), "status", res.status, "error", res.kind)
		return
	}
	delay := min(webhookDelay(w.timing.first, w.timing.max, e.attempts), deadline.Sub(now))
	e.notBefore = now.Add(delay)
	w.log.Warn("webhook delivery failed", "endpoint", ep.name, "event", e.ev.ID, "attempt", e.attempts,
		"status", res.status, "error", res.kind, "detail", res.detail, "retry_in", delay.Round(time.Millisecond).String())
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// publish makes the queue readable for metrics and the admin view.
func (s *webhookSession) publish() {
	s.ep.queued.Store(int64(s.win.queued()))
}

// save journals the state when it changed (at most every saveEvery, unless
// final) or when the lease needs renewing, one write at a time.
func (s *webhookSession) save(ctx context.Context, now time.Time, final bool) {
	if s.saving || !s.held || (s.stopping && !final) {
		return
	}
	renew := s.leaseUntil.Sub(now) < s.w.timing.lease/2
	due := s.dirty && (final || now.Sub(s.lastSave) >= s.w.timing.saveEvery)
	if !renew && !due {
		return
	}
	st := s.snapshot()
	until := now.Add(s.w.timing.lease)
	s.saving, s.dirty, s.lastSave = true, false, now
	go func() {
		err := s.w.journal.SaveWebhook(context.WithoutCancel(ctx), st, s.w.node, until)
		s.saved <- webhookSave{st: st, until: until, err: err}
	}()
}

// snapshot is the state to journal: the cursor, and the failing-since of
// the first wanted event after it (its give-up clock).
func (s *webhookSession) snapshot() webhookState {
	st := s.st
	st.Endpoint, st.Cursor, st.EventFailingSince = s.ep.key, s.win.cursor, s.inherit
	for _, e := range s.win.entries {
		if e.ev != nil && !e.done {
			st.EventFailingSince = e.firstFailure
			break
		}
	}
	return st
}

// saveDone takes a write's outcome. On failure this node stops driving
// until it re-reads the journal.
func (s *webhookSession) saveDone(sv webhookSave) {
	s.saving = false
	w := s.w
	if sv.err != nil {
		if errors.Is(sv.err, errWebhookLeaseLost) {
			w.log.Info("another node now delivers this endpoint's events", "endpoint", s.ep.name)
			s.held = false
		} else {
			w.log.Error("journaling webhook delivery failed", "endpoint", s.ep.name, "cursor", sv.st.Cursor, "error", sv.err)
		}
		s.stopping = true
		return
	}
	s.leaseUntil = sv.until
	if w.timing.saved != nil {
		w.timing.saved(sv.st)
	}
}

// nextWake is when the loop must look again without being told: a retry
// or the pause ending, a write held back, the lease to renew.
func (s *webhookSession) nextWake(now time.Time) time.Duration {
	at := s.leaseUntil.Add(-s.w.timing.lease / 2)
	if s.dirty {
		at = earlier(at, s.lastSave.Add(s.w.timing.saveEvery))
	}
	if s.failing && s.inFlight == 0 {
		at = earlier(at, s.pauseUntil)
	}
	if !s.nextDue.IsZero() {
		at = earlier(at, s.nextDue)
	}
	return max(at.Sub(now), time.Millisecond)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
