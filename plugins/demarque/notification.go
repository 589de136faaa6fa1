package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// notificationType is the one notification the lending seed documents: a
// reader returned the publication early.
const notificationType = "return"

// notificationBody is what the warehouse POSTs to notify_url. Data values are
// kept raw because the seed shows time_before_expire as a number and the rest
// as strings, and a sender may well differ.
type notificationBody struct {
	Type string                     `json:"type"`
	Time json.RawMessage            `json:"time"`
	Data map[string]json.RawMessage `json:"data"`
}

// notificationFields are the data keys passed on in the event.
var notificationFields = []string{"loan", "borrower", "transaction", "time_before_expire", "expire_at"}

// notificationTimeLayouts are the time forms accepted: RFC 3339 and the ISO
// 8601 basic form the warehouse takes in expire_at.
var notificationTimeLayouts = []string{
	time.RFC3339Nano,
	"20060102T150405Z07:00",
	"20060102T150405Z0700",
	"20060102T150405",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// HandleNotification turns the warehouse's callback into a loan event: a
// return becomes loan.returned, anything else loan.notified. The host has
// already checked the per-loan token in the URL (the only authentication);
// the body must still be about the loan the token was issued for.
func (p *provider) HandleNotification(_ context.Context, n sdk.Notification) (ev sdk.Event, err error) {
	defer func() {
		p.logger().Debug("notification", "instance", n.Instance, "loan", n.Loan.ID, "type", ev.Type, "outcome", outcome(err))
	}()
	if _, err := p.instance(n.Instance); err != nil {
		return sdk.Event{}, err
	}
	if n.Method != "" && n.Method != http.MethodPost {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification: method %s, expected POST", n.Method)
	}
	var body notificationBody
	dec := json.NewDecoder(bytes.NewReader(n.Body))
	if err := dec.Decode(&body); err != nil || body.Type == "" {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification: unreadable body (expected JSON with type and data)")
	}

	data := map[string]string{"type": body.Type}
	for _, k := range notificationFields {
		if v, ok := scalar(body.Data[k]); ok {
			data[k] = v
		}
	}
	tx := data["transaction"]
	if tx == "" {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification names no transaction")
	}
	if tx != n.Loan.ID && tx != n.Loan.ProviderRef[refTransaction] {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "notification is for another transaction")
	}

	ev = sdk.Event{Type: sdk.EventLoanNotified, Data: data}
	if body.Type == notificationType {
		ev.Type = sdk.EventLoanReturned
	}
	if s, ok := scalar(body.Time); ok {
		ev.At = parseTime(s)
	}
	return ev, nil
}

// scalar renders a JSON string, number or boolean as a string; anything else
// (absent, null, object, array) is not a value.
func scalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		// The literal keeps integers integral and avoids float formatting.
		return string(bytes.TrimSpace(raw)), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// parseTime reads a notification time; zero when it matches no known form.
func parseTime(s string) time.Time {
	for _, layout := range notificationTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
