package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// TestNotificationFromSimulator runs the whole story: checkout with a
// notify_url, the reader returns early in the simulator, the callback's body
// goes to HandleNotification as the host would hand it over.
func TestNotificationFromSimulator(t *testing.T) {
	e := newEnv(t)
	type result struct {
		ev  sdk.Event
		err error
	}
	results := make(chan result, 1)
	var ref sdk.LoanRef
	ils := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := e.p.HandleNotification(r.Context(), sdk.Notification{
			Instance: testInstance, Loan: ref, Method: r.Method, Header: r.Header, Body: body,
		})
		results <- result{ev, err}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ils.Close()

	r := e.checkout("ln_n")
	r.Days = 10
	r.NotifyURL = ils.URL + "/v1/notifications/" + testInstance + "/token"
	loan, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	ref = loanRef(r, loan)

	e.clock.Advance(24 * time.Hour)
	if err := e.sim.Return(context.Background(), "ln_n"); err != nil {
		t.Fatalf("Return: %v", err)
	}
	got := <-results
	if got.err != nil {
		t.Fatalf("HandleNotification: %v", got.err)
	}
	if got.ev.Type != sdk.EventLoanReturned || !got.ev.At.Equal(e.clock.Now()) {
		t.Fatalf("event: %+v", got.ev)
	}
	want := map[string]string{
		"type": "return", "loan": "L000001", "borrower": r.Patron, "transaction": "ln_n",
		"time_before_expire": "777600", "expire_at": "20261202T100000",
	}
	for k, v := range want {
		if got.ev.Data[k] != v {
			t.Errorf("data %s = %q, want %q", k, got.ev.Data[k], v)
		}
	}
}

func TestHandleNotification(t *testing.T) {
	loan := sdk.LoanRef{ID: "ln_1", ProviderRef: map[string]string{refTransaction: "ln_1"}}
	tests := []struct {
		name     string
		method   string
		body     string
		wantType string
		wantAt   time.Time
		wantData map[string]string
		wantErr  bool
	}{
		{
			name:     "return, RFC 3339",
			body:     `{"type":"return","time":"2026-11-23T10:00:00Z","data":{"loan":"L1","borrower":"b","transaction":"ln_1","time_before_expire":123,"expire_at":"2026-12-01T00:00:00Z"}}`,
			wantType: sdk.EventLoanReturned,
			wantAt:   time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
			wantData: map[string]string{"type": "return", "loan": "L1", "borrower": "b", "transaction": "ln_1", "time_before_expire": "123", "expire_at": "2026-12-01T00:00:00Z"},
		},
		{
			name:     "return, ISO basic time and string numbers",
			body:     `{"type":"return","time":"20261123T100000","data":{"transaction":"ln_1","time_before_expire":"5"}}`,
			wantType: sdk.EventLoanReturned,
			wantAt:   time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
			wantData: map[string]string{"type": "return", "transaction": "ln_1", "time_before_expire": "5"},
		},
		{
			name:     "unparsable time is zero",
			body:     `{"type":"return","time":"yesterday","data":{"transaction":"ln_1"}}`,
			wantType: sdk.EventLoanReturned,
			wantData: map[string]string{"type": "return", "transaction": "ln_1"},
		},
		{
			name:     "other type is a notice",
			body:     `{"type":"daily_summary","data":{"transaction":"ln_1","loan":{"nested":true}}}`,
			wantType: sdk.EventLoanNotified,
			wantData: map[string]string{"type": "daily_summary", "transaction": "ln_1"},
		},
		{name: "another transaction", body: `{"type":"return","data":{"transaction":"ln_2"}}`, wantErr: true},
		{name: "no transaction", body: `{"type":"return","data":{}}`, wantErr: true},
		{name: "no data", body: `{"type":"return"}`, wantErr: true},
		{name: "no type", body: `{"data":{"transaction":"ln_1"}}`, wantErr: true},
		{name: "type not a string", body: `{"type":1,"data":{"transaction":"ln_1"}}`, wantErr: true},
		{name: "data not an object", body: `{"type":"return","data":"ln_1"}`, wantErr: true},
		{name: "empty", body: ``, wantErr: true},
		{name: "garbage", body: "\x00\xff<html>", wantErr: true},
		{name: "GET", method: http.MethodGet, body: `{"type":"return","data":{"transaction":"ln_1"}}`, wantErr: true},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			ev, err := e.p.HandleNotification(context.Background(), sdk.Notification{
				Instance: testInstance, Loan: loan, Method: method, Body: []byte(tt.body),
			})
			if tt.wantErr {
				wantError(t, err, sdk.CodeInvalidRequest, "", "")
				return
			}
			if err != nil {
				t.Fatalf("HandleNotification: %v", err)
			}
			if ev.Type != tt.wantType || !ev.At.Equal(tt.wantAt) || len(ev.Data) != len(tt.wantData) {
				t.Fatalf("event: %+v", ev)
			}
			for k, v := range tt.wantData {
				if ev.Data[k] != v {
					t.Errorf("data %s = %q, want %q", k, ev.Data[k], v)
				}
			}
		})
	}
}

// FuzzHandleNotification: no body makes the provider panic, and every error
// carries a unified code.
func FuzzHandleNotification(f *testing.F) {
	f.Add([]byte(`{"type":"return","time":"2026-11-23T10:00:00Z","data":{"loan":"L1","borrower":"b","transaction":"ln_1","time_before_expire":123,"expire_at":"20261201T000000"}}`))
	f.Add([]byte(`{"type":"return","data":{"transaction":null,"time_before_expire":1e400}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{0xff, 0xfe})
	p := newProvider()
	if err := p.Configure(context.Background(), testInstance, map[string]string{
		settingBaseURL: "https://warehouse.example", settingOrganisation: "1", settingUsername: "u", settingPassword: "p",
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := p.HandleNotification(context.Background(), sdk.Notification{
			Instance: testInstance, Loan: sdk.LoanRef{ID: "ln_1"}, Method: http.MethodPost, Body: body,
		})
		if err != nil {
			if !sdk.CodeOf(err).Known() {
				t.Fatalf("unknown code: %v", err)
			}
			return
		}
		if ev.Type != sdk.EventLoanReturned && ev.Type != sdk.EventLoanNotified {
			t.Fatalf("event type %q", ev.Type)
		}
	})
}
