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
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestSecretsNeverLeak runs every operation, succeeding and failing, with
// every log (the provider's and sdk.HTTPClient's, which uses hclog's
// default logger) captured at trace level, and looks for the password,
// the token, the Basic credentials and the patron's passphrase in logs and
// error messages.
func TestSecretsNeverLeak(t *testing.T) {
	const password = "pa55-W0rd-that-must-not-leak"
	const token = "t0ken-that-must-not-leak"
	const passphrase = "pa55phrase-hash-that-must-not-leak"
	var logs testlog.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs, JSONFormat: true})
	prev := hclog.SetDefault(logger)
	t.Cleanup(func() { hclog.SetDefault(prev) })

	e := newEnv(t, odlsim.WithCredentials(odlsim.DefaultUsername, password), odlsim.WithToken(token))
	e.p.log = logger.Named("odl")
	e.settings[settingPassword] = password
	e.configure(t, nil) // after SetDefault, so the HTTP client logs to the buffer

	ctx := context.Background()
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	n := 0
	run := func() {
		n++
		r := e.checkout("ln_s"+string(rune('a'+n)), odlsim.ISBNLCP)
		r.Options = map[string]string{optPassphrase: passphrase}
		loan, err := e.p.Checkout(ctx, r)
		collect(err)
		ref := loanRef(r, loan)
		_, err = e.p.Fulfill(ctx, sdk.FulfillRequest{Instance: testInstance, Loan: ref})
		collect(err)
		_, err = e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance, Loan: ref, Days: 3})
		collect(err)
		_, err = e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance, Loan: ref})
		collect(err)
		_, err = e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: odlsim.ISBNLCP})
		collect(err)
		_, err = e.p.Reconcile(ctx, sdk.ReconcileRequest{Instance: testInstance})
		collect(err)
		_, err = e.p.HandleNotification(ctx, sdk.Notification{Instance: testInstance, Method: http.MethodPost, Body: []byte(password)})
		collect(err)
	}
	run()
	for _, f := range []odlsim.Faults{{Status: 500}, {Garbage: true}, {Drop: true}, {Status: 429, RetryAfter: time.Second}, {BadGatewayAfter: true}} {
		e.sim.SetFaults(f)
		run()
	}
	e.sim.SetFaults(odlsim.Faults{})
	e.configure(t, map[string]string{settingPassword: "wr0ng-" + password})
	e.clock.Advance(2 * defaultFeedRefresh) // the feed is read again, refused
	run()
	e.configure(t, map[string]string{settingUsername: "", settingPassword: "", settingToken: token})
	run()
	collect(e.p.Configure(ctx, "broken", map[string]string{settingFeedURL: "http://x.example", settingPassword: password}))
	collect(e.p.Configure(ctx, "broken", map[string]string{settingFeedURL: "https://u:" + password + "@x.example", settingPassword: password}))
	collect(e.p.Configure(ctx, "broken", map[string]string{settingFeedURL: "https://x.example", settingToken: token, settingUsername: "u"}))

	if len(errs) < 20 {
		t.Fatalf("only %d errors exercised", len(errs))
	}
	if !strings.Contains(logs.String(), `"request"`) || !strings.Contains(logs.String(), "passphrase=redacted") {
		t.Fatalf("the HTTP client's log of the checkouts was not captured:\n%s", logs.String())
	}
	secrets := []string{
		password, token, passphrase,
		base64.StdEncoding.EncodeToString([]byte(odlsim.DefaultUsername + ":" + password)),
		base64.StdEncoding.EncodeToString([]byte(odlsim.DefaultUsername + ":wr0ng-" + password)),
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
}
