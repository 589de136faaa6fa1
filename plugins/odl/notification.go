package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// notificationDoc is what the distributor POSTs to notification_url: a
// License Status Document, at least {"id","status"} (ODL 1.0 §6); message
// and updated are read when present, never required.
type notificationDoc struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Updated struct {
		Status string `json:"status"`
	} `json:"updated"`
}

// notificationEvents maps an LSD status onto the loan event it means. A
// cancelled loan was returned before the patron ever opened it.
var notificationEvents = map[string]string{
	lsdActive:    sdk.EventLoanActivated,
	lsdReturned:  sdk.EventLoanReturned,
	lsdCancelled: sdk.EventLoanReturned,
	lsdRevoked:   sdk.EventLoanRevoked,
	lsdExpired:   sdk.EventLoanExpired,
}

// maxMessage bounds the distributor's message passed on in the event.
const maxMessage = 300

// HandleNotification turns the distributor's notification into a loan
// event: returned and cancelled become loan.returned, revoked
// loan.revoked, expired loan.expired, active (a ready loan opened)
// loan.activated, anything else (ready) loan.notified. The host has
// already checked the per-loan token in the URL; the LSD's id must still
// be the loan's, when the plugin knows it.
func (p *provider) HandleNotification(_ context.Context, n sdk.Notification) (ev sdk.Event, err error) {
	defer func() {
		p.logger().Debug("notification", "instance", n.Instance, "loan", n.Loan.ID, "type", ev.Type, "outcome", outcome(err))
	}()
	if _, err := p.instances.Get(n.Instance); err != nil {
		return sdk.Event{}, err
	}
	if n.Method != "" && n.Method != http.MethodPost {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification: method %s, expected POST", n.Method)
	}
	var doc notificationDoc
	if err := json.Unmarshal(n.Body, &doc); err != nil || doc.ID == "" || doc.Status == "" {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification: unreadable body (expected a License Status Document with id and status)")
	}
	if want := n.Loan.ProviderRef[refLSDID]; want != "" && doc.ID != want && doc.ID != n.Loan.ID {
		// The host has checked the per-loan token already; a server that
		// names the loan by its checkout_id is read too.
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification is about another License Status Document than the loan's")
	}
	ev = sdk.Event{Type: sdk.EventLoanNotified, Data: map[string]string{"status": doc.Status, "lsd_id": doc.ID}}
	if t, ok := notificationEvents[doc.Status]; ok {
		ev.Type = t
	}
	if m := strings.TrimSpace(doc.Message); m != "" {
		ev.Data["message"] = clip(m, maxMessage)
	}
	ev.At = parseTime(doc.Updated.Status)
	return ev, nil
}

// clip cuts s to at most n bytes, on a rune boundary, without control
// characters.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
