package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/host/api"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - A notification's token is checked before a byte of its body is read:
//     a forged one answers 404 with Connection: close, so net/http does not
//     drain the unread body either; a Content-Length beyond the 64 KiB cap
//     answers 413 the same way. examples/server reads headers within 10 s
//     and a request within 30 s, keeps idle connections 2 min, and lets a
//     write run 30 s + the longest instance call + 15 s.

// maxNotificationBytes caps a distributor's callback body.
const maxNotificationBytes = api.MaxNotificationBytes

// Notify handles a distributor's callback to a per-loan notification URL
// (api.md §5): the token must be one the host issued for this provider, the
// plugin turns the call into an event, the event is applied to the loan and
// appended to the log. The same notification delivered twice changes
// nothing the second time.
func (h *Host) Notify(ctx context.Context, provider, token, method string, header map[string][]string, body []byte) error {
	return h.notify(ctx, provider, token, method, header, func() ([]byte, error) { return body, nil })
}

// errNotificationTooLarge is the Go path's answer to an oversized body (the
// HTTP codec answers 413 before reading it).
var errNotificationTooLarge = invalid("notification body is larger than %d bytes", maxNotificationBytes)

// notify is Notify with the body read only once the token is known to be
// ours (api.md §7): a forged token costs the host no body.
func (h *Host) notify(ctx context.Context, provider, token, method string, header map[string][]string, readBody func() ([]byte, error)) (err error) {
	start := time.Now()
	loanID := ""
	defer func() { h.logCall(provider, "notification", loanID, start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return err
	}
	id, ok := h.keys.loanOfToken(provider, token)
	if !ok {
		return sdk.Errorf(sdk.CodeLoanNotFound, "unknown notification token")
	}
	loanID = id
	rec, err := h.store.Loan(ctx, provider, id)
	if errors.Is(err, ErrNotFound) {
		return sdk.Errorf(sdk.CodeLoanNotFound, "unknown notification token")
	}
	if err != nil {
		return fmt.Errorf("reading loan %s for a notification: %w", id, err)
	}
	body, err := readBody()
	if err != nil {
		return err
	}
	if len(body) > maxNotificationBytes {
		return errNotificationTooLarge
	}
	var ev sdk.Event
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		ev, err = p.HandleNotification(ctx, sdk.Notification{Instance: provider, Loan: loanRef(rec), Method: method, Header: header, Body: body})
		return err
	})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	dedupe := fmt.Sprintf("notify|%s|%s|%s", provider, id, hex.EncodeToString(sum[:]))
	typ := ev.Type
	if typ == "" {
		typ = sdk.EventLoanNotified
	}
	// One transaction: the loan's new state and the event, or, for a
	// notification delivered before, nothing at all. The distributor's
	// word applies to the loan as it is when written (cas.go).
	return h.journalNotification(context.WithoutCancel(ctx), rec, ev, typ, dedupe)
}

// applyEvent applies a distributor's event to the loan; false when the loan
// is already in that state.
func applyEvent(l *Loan, ev sdk.Event) bool {
	status := ""
	switch ev.Type {
	case sdk.EventLoanReturned:
		status = StatusReturned
	case sdk.EventLoanExpired:
		status = StatusExpired
	case sdk.EventLoanRevoked:
		status = StatusRevoked
	}
	changed := false
	if status != "" && l.Status != status {
		l.Status = status
		changed = true
	}
	if !ev.ExpiresAt.IsZero() && (l.ExpiresAt == nil || !l.ExpiresAt.Equal(ev.ExpiresAt)) {
		l.ExpiresAt = timePtr(ev.ExpiresAt)
		changed = true
	}
	return changed
}
