package demarquesim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func TestReturnNotifies(t *testing.T) {
	clk := newClock()
	got := make(chan []byte, 2)
	status := http.StatusNoContent
	ils := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("notification: %s %q", r.Method, r.Header.Get("Content-Type"))
		}
		got <- b
		w.WriteHeader(status)
	}))
	defer ils.Close()

	sim, srv := start(t, demarquesim.WithClock(clk.Now))
	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)
	form := lendForm(clk.Now(), "pseudo-1", "ln_1", 10)
	form.Set("notify_url", ils.URL+"/v1/notifications/dm/tok")
	post(t, loanURL, form)
	post(t, loanURL, lendForm(clk.Now(), "pseudo-2", "ln_2", 10)) // no notify_url

	clk.Advance(24 * time.Hour)
	if err := sim.Return(context.Background(), "ln_1"); err != nil {
		t.Fatalf("Return: %v", err)
	}
	var n demarquesim.Notification
	if err := json.Unmarshal(<-got, &n); err != nil {
		t.Fatal(err)
	}
	want := demarquesim.NotificationData{
		Loan: "L000001", Borrower: "pseudo-1", Transaction: "ln_1",
		TimeBeforeExpire: int64(9 * 24 * time.Hour / time.Second),
		ExpireAt:         clk.Now().Add(9 * 24 * time.Hour).Format(demarquesim.ExpireAtLayout),
	}
	if n.Type != "return" || n.Data != want || n.Time != clk.Now().Format(time.RFC3339) {
		t.Fatalf("notification: %+v, want data %+v", n, want)
	}
	if l, _ := sim.Loan("ln_1"); !l.Returned {
		t.Fatalf("loan not marked returned")
	}
	if a := post(t, loanURL, url.Values{"borrower_id": {"pseudo-1"}, "transaction_id": {"ln_1"}}); a.Error != "loan_not_found" {
		t.Fatalf("regenerating a returned loan: %+v", a)
	}

	status = http.StatusNotFound
	if err := sim.Return(context.Background(), "ln_1"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("redelivery to a 404: %v", err)
	}
	<-got
	if err := sim.Return(context.Background(), "nope"); !errors.Is(err, demarquesim.ErrUnknownLoan) {
		t.Fatalf("unknown: %v", err)
	}
	if err := sim.Return(context.Background(), "ln_2"); !errors.Is(err, demarquesim.ErrNoNotifyURL) {
		t.Fatalf("no notify_url: %v", err)
	}
}
