package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

func TestDescribe(t *testing.T) {
	info, err := newProvider().Describe(context.Background())
	if err != nil || info.Name != "odl" || !info.DedupesCheckout || !info.DedupesReturn || info.DedupesRenew || info.Items != "" {
		t.Fatalf("%+v %v", info, err)
	}
	for _, c := range []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapReturn, sdk.CapNotifications, sdk.CapResolve} {
		if !info.Has(c) {
			t.Errorf("capability %s not declared", c)
		}
	}
	if !slices.Equal(info.Formats, []string{"epub", "pdf", "audiobook"}) || len(info.Options) != 2 {
		t.Errorf("formats %v options %v", info.Formats, info.Options)
	}
}

// TestConfigure checks every setting's validation: the error names the
// setting, never its value.
func TestConfigure(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		override map[string]string
		setting  string
	}{
		{"no feed", map[string]string{settingFeedURL: ""}, settingFeedURL},
		{"feed not a URL", map[string]string{settingFeedURL: "::secret-value"}, settingFeedURL},
		{"plain http refused", map[string]string{sdk.SettingAllowInsecureHTTP: ""}, settingFeedURL},
		{"credentials in the feed URL", map[string]string{settingFeedURL: "http://u:secret-value@odl.example/feed"}, settingFeedURL},
		{"user without password", map[string]string{settingPassword: ""}, settingPassword},
		{"password without user", map[string]string{settingUsername: ""}, settingUsername},
		{"token and basic", map[string]string{settingToken: "secret-value"}, settingToken},
		{"hint_url not a URL", map[string]string{settingHintURL: "secret-value"}, settingHintURL},
		{"feed_refresh unreadable", map[string]string{settingFeedRefresh: "secret-value"}, settingFeedRefresh},
		{"feed_refresh too short", map[string]string{settingFeedRefresh: "1s"}, settingFeedRefresh},
		{"auth_hosts with a path", map[string]string{settingAuthHosts: "odl.example/secret-value"}, settingAuthHosts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.p.Configure(context.Background(), "other", e.with(tt.override))
			got := wantError(t, err, sdk.CodeInvalidRequest, "")
			if !strings.Contains(got.Message, tt.setting) || strings.Contains(got.Message, "secret-value") {
				t.Errorf("message %q: want the setting %q named and no value", got.Message, tt.setting)
			}
		})
	}
	if err := e.p.Health(context.Background(), testInstance); err != nil {
		t.Errorf("health: %v", err)
	}
	wantError(t, e.p.Health(context.Background(), "other"), sdk.CodeProviderCredentials, "")
	if err := e.p.Configure(context.Background(), "none", e.with(map[string]string{settingUsername: "", settingPassword: ""})); err != nil {
		t.Errorf("no credentials at all (an open feed): %v", err)
	}
	if err := e.p.Configure(context.Background(), "fresh", e.with(map[string]string{settingFeedRefresh: "15m"})); err != nil {
		t.Errorf("feed_refresh 15m: %v", err)
	}
	if n := e.sim.Calls(); n != 0 {
		t.Errorf("configure called the distributor %d times", n)
	}
}

// TestAuth: Basic or Bearer reach the feed, info documents and checkout;
// LSDs and licences get none; refused credentials are
// provider_credentials.
func TestAuth(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		e := newEnv(t)
		if bearer {
			e.configure(t, map[string]string{settingUsername: "", settingPassword: "", settingToken: odlsim.DefaultToken})
		}
		e.lend(t, "ln_1", odlsim.ISBNAvailable)
		want := map[bool]string{false: "basic", true: "bearer"}[bearer]
		for _, r := range e.sim.Requests() {
			needs := r.Endpoint == odlsim.EndpointFeed || r.Endpoint == odlsim.EndpointInfo || r.Endpoint == odlsim.EndpointCheckout
			if needs && r.Auth != want {
				t.Errorf("bearer %v: %s sent with %q", bearer, r.Endpoint, r.Auth)
			}
			if !needs && r.Auth != "" && r.Endpoint != odlsim.EndpointStatus {
				// The LSD GET after a 303 keeps the POST's header (same
				// host); nothing else gets credentials.
				t.Errorf("bearer %v: %s got credentials", bearer, r.Endpoint)
			}
		}
	}
	e := newEnv(t)
	e.configure(t, map[string]string{settingPassword: "wrong"})
	_, err := e.p.Checkout(context.Background(), e.checkout("ln_1", odlsim.ISBNAvailable))
	wantError(t, err, sdk.CodeProviderCredentials, odlsim.TypeGeneric)

	// Credentials stay on the feed's host: an info document elsewhere gets
	// none unless auth_hosts names its host.
	other := newEnv(t, odlsim.WithBaseURL("http://localhost:1"))
	in, err := other.p.instances.Get(testInstance)
	if err != nil {
		t.Fatal(err)
	}
	u := mustURL(t, "http://elsewhere.example/licenses/x/info")
	if x, _ := in.at(u, http.MethodGet, typeInfo, nil); x.Header.Get("Authorization") != "" {
		t.Errorf("credentials sent to another host")
	}
	other.configure(t, map[string]string{settingAuthHosts: "elsewhere.example"})
	in, _ = other.p.instances.Get(testInstance)
	if x, _ := in.at(u, http.MethodGet, typeInfo, nil); x.Header.Get("Authorization") == "" {
		t.Errorf("credentials not sent to a host of auth_hosts")
	}
}

// TestFeedIndex: the feed is read once and then again after feed_refresh
// (in the background, the old index answering), and for an item it lacks
// at most once a minute.
func TestFeedIndex(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.lend(t, "ln_1", odlsim.ItemUUID)
	reads := e.sim.CallsTo(odlsim.EndpointFeed)
	// An item id the feed names as urn:isbn, given as urn:isbn, ISBN-10 or with hyphens.
	for _, item := range []string{"urn:isbn:" + odlsim.ISBNAvailable, "978-0-00-000001-9", "0000000019"} {
		if _, err := e.p.Checkout(ctx, e.checkout("ln_"+item, item)); err != nil {
			t.Errorf("item %q: %v", item, err)
		}
	}
	_, err := e.p.Checkout(ctx, e.checkout("ln_x", odlsim.ISBNUnknown))
	wantError(t, err, sdk.CodeItemNotFound, "")
	if e.sim.CallsTo(odlsim.EndpointFeed) != reads {
		t.Errorf("an unknown item within a minute of the last read read the feed again")
	}
	// A licence bought since: found once a minute has passed.
	e.sim.AddLicense(odlsim.ISBNUnknown, odlsim.License{ID: "urn:uuid:new", Format: odlsim.TypeEPUB})
	_, err = e.p.Checkout(ctx, e.checkout("ln_y", odlsim.ISBNUnknown))
	wantError(t, err, sdk.CodeItemNotFound, "")
	e.clock.Advance(rereadInterval)
	if _, err := e.p.Checkout(ctx, e.checkout("ln_z", odlsim.ISBNUnknown)); err != nil {
		t.Errorf("after a minute, the new licence: %v", err)
	}
	reads = e.sim.CallsTo(odlsim.EndpointFeed)
	// Stale: the known item answers at once and a read starts behind it.
	e.clock.Advance(defaultFeedRefresh)
	e.lend(t, "ln_stale", odlsim.ISBNAvailable)
	ctxw, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.sim.Wait(ctxw, func() bool { return e.sim.CallsTo(odlsim.EndpointFeed) >= reads+3 }); err != nil {
		t.Errorf("no background read of a stale index: %v", err)
	}
}

// TestFeedVariants: rel arrays, untemplated links and info documents
// without left/active all work through a checkout.
func TestFeedVariants(t *testing.T) {
	e := newEnv(t, odlsim.WithArrayRels(), odlsim.WithInfoVariant(), odlsim.WithUntemplatedLinks(), odlsim.WithoutSelfLinks())
	r, l := e.lend(t, "ln_1", odlsim.ISBNAvailable)
	sl, _ := e.sim.Loan("ln_1")
	if l.ProviderRef[refLSD] != e.srv.URL+"/loans/"+sl.ID+"/status" {
		t.Errorf("without a self link the LSD is the licence's status link: %v", l.ProviderRef)
	}
	if _, err := e.p.Return(context.Background(), sdk.ReturnRequest{Instance: testInstance, Loan: loanRef(r, l)}); err != nil || !e.sim.Returned("ln_1") {
		t.Errorf("untemplated return: %v", err)
	}
	if q := e.requestsTo(odlsim.EndpointReturn)[0].Query; len(q) != 0 {
		t.Errorf("untemplated return link sent %v", q)
	}
}

// TestPassphrase: a template with passphrase, hint and hint_url needs the
// passphrase option (and a hint): without it, invalid_request and no
// call; with it, all three are sent.
func TestPassphrase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	posts := e.sim.CallsTo(odlsim.EndpointCheckout)
	_, err := e.p.Checkout(ctx, e.checkout("ln_1", odlsim.ISBNLCP))
	if got := wantError(t, err, sdk.CodeInvalidRequest, ""); !strings.Contains(got.Message, `"passphrase"`) {
		t.Errorf("message %q does not name the option", got.Message)
	}
	if e.sim.CallsTo(odlsim.EndpointCheckout) != posts {
		t.Errorf("a checkout without its passphrase was sent")
	}
	r := e.checkout("ln_2", odlsim.ISBNLCP)
	r.Options = map[string]string{optPassphrase: "c2VjcmV0LWhhc2g=", optHint: "The PIN on your card"}
	if _, err := e.p.Checkout(ctx, r); err != nil {
		t.Fatal(err)
	}
	sl, _ := e.sim.Loan("ln_2")
	if sl.Passphrase != "c2VjcmV0LWhhc2g=" || sl.Hint != "The PIN on your card" || sl.HintURL != e.settings[settingHintURL] {
		t.Errorf("the distributor got %+v", sl)
	}
	// Without the hint option, the instance's hint.
	r.LoanID, r.Options = "ln_3", map[string]string{optPassphrase: "x"}
	if _, err := e.p.Checkout(ctx, r); err != nil {
		t.Fatal(err)
	}
	if sl, _ := e.sim.Loan("ln_3"); sl.Hint != e.settings[settingHint] {
		t.Errorf("hint %q, want the instance's", sl.Hint)
	}
	// Without either, the hint is left out and the distributor decides
	// (this one requires it).
	e.configure(t, map[string]string{settingHint: ""})
	r.LoanID = "ln_4"
	posts = e.sim.CallsTo(odlsim.EndpointCheckout)
	_, err = e.p.Checkout(ctx, r)
	wantError(t, err, sdk.CodeInvalidRequest, odlsim.TypeCheckoutVariable+"hint")
	if e.sim.CallsTo(odlsim.EndpointCheckout) != posts+1 {
		t.Errorf("the checkout without a hint was not sent")
	}
}

// TestCheckoutErrors: the distributor's refusals and failures, each with
// its unified code.
func TestCheckoutErrors(t *testing.T) {
	tests := []struct {
		name    string
		item    string
		faults  odlsim.Faults
		code    sdk.Code
		pc      string
		outcome sdk.Outcome
	}{
		{"checkouts used up", odlsim.ISBNExhausted, odlsim.Faults{}, sdk.CodeNotAvailable, odlsim.TypeUnavailable, sdk.OutcomeDefinitive},
		{"licence expired (by the feed's terms, no call)", odlsim.ISBNExpired, odlsim.Faults{}, sdk.CodeNotAvailable, "", sdk.OutcomeDefinitive},
		{"preorder", odlsim.ISBNPreorder, odlsim.Faults{}, sdk.CodeNotAvailable, odlsim.TypeUnavailable, sdk.OutcomeDefinitive},
		{"unknown item", odlsim.ISBNUnknown, odlsim.Faults{}, sdk.CodeItemNotFound, "", sdk.OutcomeDefinitive},
		{"licence expired at the distributor", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 403, Problem: odlsim.TypeExpired}, sdk.CodeNotAvailable, odlsim.TypeExpired, sdk.OutcomeDefinitive},
		{"variable refused", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 400, Problem: odlsim.TypeCheckoutVariable + "expires"}, sdk.CodeInvalidRequest, odlsim.TypeCheckoutVariable + "expires", sdk.OutcomeDefinitive},
		{"rate limited", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 429, RetryAfter: 30 * time.Second}, sdk.CodeTryLater, odlsim.TypeGeneric, sdk.OutcomeDefinitive},
		{"server error", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 500}, sdk.CodeProviderError, odlsim.TypeServer, sdk.OutcomeUnknown},
		{"feed fails", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointFeed}, Status: 503}, sdk.CodeProviderError, odlsim.TypeServer, sdk.OutcomeUnknown},
		{"garbage checkout answer", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Garbage: true}, sdk.CodeProviderError, "HTTP 200", sdk.OutcomeUnknown},
		{"502 page after lending", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, BadGatewayAfter: true}, sdk.CodeProviderError, "HTTP 502", sdk.OutcomeUnknown},
		{"garbled 201 after lending", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, GarbageAfter: true}, sdk.CodeProviderError, "HTTP 201", sdk.OutcomeUnknown},
		{"connection dropped", odlsim.ISBNAvailable, odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Drop: true}, sdk.CodeProviderError, "", sdk.OutcomeUnknown},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetFaults(tt.faults)
			_, err := e.p.Checkout(context.Background(), e.checkout("ln_err_"+string(rune('a'+i)), tt.item))
			got := wantError(t, err, tt.code, tt.pc)
			if sdk.OutcomeOf(got) != tt.outcome {
				t.Errorf("outcome %s, want %s", sdk.OutcomeOf(got), tt.outcome)
			}
			if tt.code == sdk.CodeTryLater && got.RetryAfter != 30*time.Second {
				t.Errorf("retry after %s", got.RetryAfter)
			}
		})
	}
}

// TestFeedReadOutlivesItsCaller: a caller whose deadline passes while the
// feed is read gets provider_timeout with nothing ordered (OutcomeNotSent);
// the read goes on, and the next call uses it instead of starting another.
func TestFeedReadOutlivesItsCaller(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointFeed}, Times: 1, Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := e.p.Checkout(ctx, e.checkout("ln_1", odlsim.ISBNAvailable))
	if got := wantError(t, err, sdk.CodeProviderTimeout, ""); sdk.OutcomeOf(got) != sdk.OutcomeNotSent {
		t.Errorf("outcome %s, want not_sent", sdk.OutcomeOf(got))
	}
	if n := e.sim.CallsTo(odlsim.EndpointCheckout); n != 0 {
		t.Fatalf("%d checkouts sent", n)
	}
	e.lend(t, "ln_2", odlsim.ISBNAvailable)
	if n := e.sim.CallsTo(odlsim.EndpointFeed); n != 3 {
		t.Errorf("%d feed page reads, want one read of 3 pages", n)
	}
}
