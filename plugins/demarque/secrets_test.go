package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/testlog"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

// TestPasswordNeverLeaks runs every operation, succeeding and failing, with
// every log (the provider's and sdk.HTTPClient's, which uses hclog's
// default logger) captured at trace level, and looks for the password and
// the Basic credentials in logs and error messages.
func TestPasswordNeverLeaks(t *testing.T) {
	const password = "pa55-W0rd-that-must-not-leak"
	const wrong = "wr0ng-pa55-that-must-not-leak"
	var logs testlog.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs, JSONFormat: true})
	prev := hclog.SetDefault(logger)
	t.Cleanup(func() { hclog.SetDefault(prev) })

	e := newEnv(t, demarquesim.WithCredentials(demarquesim.DefaultUsername, password))
	e.p.log = logger.Named("demarque")
	e.settings[settingPassword] = password
	e.configure(t, nil) // after SetDefault, so the HTTP client logs to the buffer

	ctx := context.Background()
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	run := func() {
		r := e.checkout("ln_s")
		r.NotifyURL = "https://ils.example/v1/notifications/x/tok"
		loan, err := e.p.Checkout(ctx, r)
		collect(err)
		_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: loanRef(r, loan)})
		collect(err)
		_, err = e.p.Download(ctx, e.download())
		collect(err)
		bad := e.download()
		bad.Item = "9782924253064"
		_, err = e.p.Download(ctx, bad)
		collect(err)
		_, err = e.p.HandleNotification(ctx, sdk.Notification{Instance: testInstance, Method: http.MethodPost, Body: []byte(password)})
		collect(err)
	}
	run()
	for _, f := range []demarquesim.Faults{{Status: 500}, {Garbage: true}, {Drop: true}, {Status: 429, RetryAfter: time.Second}} {
		e.sim.SetFaults(f)
		run()
	}
	e.sim.SetFaults(demarquesim.Faults{})
	e.configure(t, map[string]string{settingPassword: wrong})
	run()
	collect(e.p.Configure(ctx, "broken", map[string]string{settingBaseURL: "http://x.example", settingPassword: password}))
	collect(e.p.Configure(ctx, "broken", map[string]string{settingBaseURL: "https://u:" + password + "@x.example", settingPassword: password}))

	if len(errs) < 10 {
		t.Fatalf("only %d errors exercised", len(errs))
	}
	if !strings.Contains(logs.String(), `"request"`) {
		t.Fatalf("the HTTP client's log was not captured:\n%s", logs.String())
	}
	secrets := []string{
		password, wrong,
		base64.StdEncoding.EncodeToString([]byte(demarquesim.DefaultUsername + ":" + password)),
		base64.StdEncoding.EncodeToString([]byte(demarquesim.DefaultUsername + ":" + wrong)),
	}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("a secret is in the logs:\n%s", logs.String())
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), s) {
				t.Errorf("a secret is in an error: %v", err)
			}
		}
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), "?") && strings.Contains(err.Error(), "uname=") {
			t.Errorf("an error carries a URL with its query: %v", err)
		}
	}
}
