package memory

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// memWebhook is an endpoint's journal record in a Store.
type memWebhook struct {
	state  journal.WebhookState
	holder string
	until  time.Time
}

// OpenWebhook journals endpoint at the end of the event log unless it is
// journaled already.
func (s *Store) OpenWebhook(_ context.Context, endpoint string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks == nil {
		s.hooks = map[string]memWebhook{}
	}
	if _, ok := s.hooks[endpoint]; ok {
		return nil
	}
	st := journal.WebhookState{Endpoint: endpoint}
	if n := s.events.len(); n > 0 {
		st.Cursor = journal.FormatCursor(uint64(n))
	}
	s.hooks[endpoint] = memWebhook{state: st}
	return nil
}

// LeaseWebhook gives endpoint's lease to holder until until when it is
// free, already holder's, or expired before now.
func (s *Store) LeaseWebhook(_ context.Context, endpoint, holder string, now, until time.Time) (journal.WebhookState, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.hooks[endpoint]
	if !ok {
		return journal.WebhookState{}, false, journal.ErrNotFound
	}
	if w.holder != "" && w.holder != holder && !w.until.Before(now) {
		return journal.WebhookState{}, false, nil
	}
	w.holder, w.until = holder, until
	s.hooks[endpoint] = w
	return w.state, true, nil
}

// SaveWebhook writes st while holder holds the lease, extending it to until.
func (s *Store) SaveWebhook(_ context.Context, st journal.WebhookState, holder string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.hooks[st.Endpoint]
	if !ok || w.holder != holder {
		return journal.ErrWebhookLeaseLost
	}
	w.state, w.until = st, until
	s.hooks[st.Endpoint] = w
	return nil
}

// ReleaseWebhook frees endpoint's lease if holder holds it.
func (s *Store) ReleaseWebhook(_ context.Context, endpoint, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.hooks[endpoint]; ok && w.holder == holder {
		w.holder, w.until = "", time.Time{}
		s.hooks[endpoint] = w
	}
	return nil
}

// WebhookState returns endpoint's journaled state, or journal.ErrNotFound.
func (s *Store) WebhookState(_ context.Context, endpoint string) (journal.WebhookState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.hooks[endpoint]
	if !ok {
		return journal.WebhookState{}, journal.ErrNotFound
	}
	return w.state, nil
}
