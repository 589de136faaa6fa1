package demarquesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrUnknownLoan is returned by Return for a transaction the simulator has no
// loan for.
var ErrUnknownLoan = errors.New("demarquesim: no loan with this transaction_id")

// ErrNoNotifyURL is returned by Return for a loan made without notify_url.
var ErrNoNotifyURL = errors.New("demarquesim: the loan has no notify_url")

// Notification is the body the simulator POSTs to notify_url (the seed's
// shape). Time is RFC 3339; data.expire_at is in the ISO 8601 basic form the
// loan was made with, so a receiver must read both.
type Notification struct {
	Type string           `json:"type"`
	Time string           `json:"time"`
	Data NotificationData `json:"data"`
}

// NotificationData is the loan part of a Notification.
type NotificationData struct {
	Loan             string `json:"loan"`
	Borrower         string `json:"borrower"`
	Transaction      string `json:"transaction"`
	TimeBeforeExpire int64  `json:"time_before_expire"`
	ExpireAt         string `json:"expire_at"`
}

// Return simulates a reader returning the loan with transaction_id tx early:
// the loan is marked returned (its link can no longer be regenerated) and
// the "return" notification is POSTed to its notify_url. The loan is marked
// returned even when the notification cannot be delivered (no notify_url, an
// error answer): the reader did return it. Calling it again
// redelivers the same notification, byte for byte, as a retrying platform
// would. An answer other
// than 2xx is an error.
func (s *Sim) Return(ctx context.Context, tx string) error {
	now := s.now()
	s.mu.Lock()
	l, ok := s.loans[tx]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("returning %q: %w", tx, ErrUnknownLoan)
	}
	l.Returned = true
	body := l.returnNotice
	if body == nil {
		n := Notification{
			Type: "return",
			Time: now.UTC().Format(time.RFC3339),
			Data: NotificationData{
				Loan:             l.ID,
				Borrower:         l.Borrower,
				Transaction:      l.Transaction,
				TimeBeforeExpire: max(0, int64(l.ExpireAt.Sub(now)/time.Second)),
				ExpireAt:         l.ExpireAt.UTC().Format(ExpireAtLayout),
			},
		}
		var err error
		if body, err = json.Marshal(n); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("returning %q: encoding the notification: %w", tx, err)
		}
		l.returnNotice = body
	}
	target := l.NotifyURL
	s.mu.Unlock()

	if target == "" {
		return fmt.Errorf("returning %q: %w", tx, ErrNoNotifyURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("returning %q: notify_url: %w", tx, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.notifyClient.Do(req)
	if err != nil {
		return fmt.Errorf("returning %q: notifying: %w", tx, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("returning %q: notify_url answered %s", tx, resp.Status)
	}
	return nil
}
