package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestHandleNotification maps each LSD status onto its event and refuses
// what is not a notification about the loan.
func TestHandleNotification(t *testing.T) {
	e := newEnv(t)
	ref := sdk.LoanRef{ID: "ln_1", ProviderRef: map[string]string{refLSDID: "lsd-1"}}
	tests := []struct {
		name   string
		method string
		body   string
		typ    string
		code   sdk.Code
	}{
		{"returned", "POST", `{"id":"lsd-1","status":"returned"}`, sdk.EventLoanReturned, ""},
		{"cancelled", "POST", `{"id":"lsd-1","status":"cancelled"}`, sdk.EventLoanReturned, ""},
		{"revoked", "POST", `{"id":"lsd-1","status":"revoked"}`, sdk.EventLoanRevoked, ""},
		{"expired", "POST", `{"id":"lsd-1","status":"expired"}`, sdk.EventLoanExpired, ""},
		{"active", "POST", `{"id":"lsd-1","status":"active"}`, sdk.EventLoanActivated, ""},
		{"ready", "", `{"id":"lsd-1","status":"ready"}`, sdk.EventLoanNotified, ""},
		{"full LSD", "POST", `{"id":"lsd-1","status":"returned","message":"Returned\u0007 by the reader","updated":{"license":"2026-11-23T10:00:00Z","status":"2026-11-23T10:00:00Z"},"links":[]}`, sdk.EventLoanReturned, ""},
		{"another loan", "POST", `{"id":"lsd-2","status":"returned"}`, "", sdk.CodeInvalidRequest},
		{"named by its checkout id", "POST", `{"id":"ln_1","status":"returned"}`, sdk.EventLoanReturned, ""},
		{"no status", "POST", `{"id":"lsd-1"}`, "", sdk.CodeInvalidRequest},
		{"no id", "POST", `{"status":"returned"}`, "", sdk.CodeInvalidRequest},
		{"not JSON", "POST", `returned`, "", sdk.CodeInvalidRequest},
		{"GET", "GET", `{"id":"lsd-1","status":"returned"}`, "", sdk.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := e.p.HandleNotification(context.Background(), sdk.Notification{Instance: testInstance, Loan: ref, Method: tt.method, Body: []byte(tt.body)})
			if tt.code != "" {
				wantError(t, err, tt.code, "")
				return
			}
			if err != nil || ev.Type != tt.typ || !strings.Contains(tt.body, `"id":"`+ev.Data["lsd_id"]+`"`) {
				t.Errorf("event %+v, %v; want %s", ev, err, tt.typ)
			}
		})
	}
	ev, _ := e.p.HandleNotification(context.Background(), sdk.Notification{Instance: testInstance, Loan: ref, Body: []byte(tests[6].body)})
	if !ev.At.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) || ev.Data["message"] != "Returned by the reader" {
		t.Errorf("full LSD's event %+v", ev)
	}
	// A loan whose LSD id the plugin does not know takes any id.
	if _, err := e.p.HandleNotification(context.Background(), sdk.Notification{Instance: testInstance, Loan: sdk.LoanRef{ID: "ln_2"}, Body: []byte(`{"id":"x","status":"revoked"}`)}); err != nil {
		t.Errorf("without lsd_id: %v", err)
	}
	_, err := e.p.HandleNotification(context.Background(), sdk.Notification{Instance: "nope", Loan: ref, Body: []byte(tests[0].body)})
	wantError(t, err, sdk.CodeProviderCredentials, "")
}

// TestNotificationsFromTheSimulator: what the simulator POSTs to the
// checkout's notification_url is what the plugin reads.
func TestNotificationsFromTheSimulator(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	e := newEnv(t, odlsim.WithReadyLoans())
	r := e.checkout("ln_1", odlsim.ISBNAvailable)
	r.NotifyURL = hook.URL + "/n/tok"
	l, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Activate("ln_1"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Revoke("ln_1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sim.Wait(ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(bodies) == 2 }); err != nil {
		t.Fatalf("notifications: %v", err)
	}
	for i, want := range []string{sdk.EventLoanActivated, sdk.EventLoanRevoked} {
		ev, err := e.p.HandleNotification(context.Background(), sdk.Notification{Instance: testInstance, Loan: loanRef(r, l), Method: "POST", Body: bodies[i]})
		if err != nil || ev.Type != want {
			t.Errorf("notification %d %s: %+v %v, want %s", i, bodies[i], ev, err, want)
		}
	}
}
