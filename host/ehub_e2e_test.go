package host_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

const (
	ehubAPIKey = "ehub-api-key-Zq83nW1x" // distinctive: a leak cannot be a coincidence
	ehubMain   = "ehub-main"             // pseudonyms, the default
	ehubIDs    = "ehub-ids"              // send_patron_id: eHUB sees the ILS's ids
	ehubLoans  = "/v1/providers/ehub-main/loans"
)

// startEhubHost is a host with the real eHUB plugin, on a memory journal,
// with the instances providers gives for the simulator served at url.
func startEhubHost(t *testing.T, providers func(url string) map[string]host.ProviderConfig) (*env, *ehubsim.Sim) {
	t.Helper()
	sim := ehubsim.New(ehubsim.WithAPIKey(ehubAPIKey))
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	return start(t, pluginConfig(t, "ehub", providers(simSrv.URL))), sim
}

// ehubWire sits between the plugin and the simulator: it records the patron
// header of every request and, when armed, sends the next fulfillment GET to
// another checkout id (the only way to make eHUB see a malformed id, which
// the host never sends).
type ehubWire struct {
	mu       sync.Mutex
	patrons  map[string]bool
	getPath  string
	sentKeys map[string]bool
}

func (w *ehubWire) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.patrons[r.Header.Get(ehubsim.PatronHeader)] = true
		w.sentKeys[r.Header.Get("Authorization")] = true
		if w.getPath != "" && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkouts/") {
			r.URL.Path, r.URL.RawPath = w.getPath, ""
			w.getPath = ""
		}
		w.mu.Unlock()
		next.ServeHTTP(rw, r)
	})
}

func (w *ehubWire) redirectNextGet(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.getPath = path
}

func (w *ehubWire) seenPatrons() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]bool{}
	for k := range w.patrons {
		out[k] = true
	}
	return out
}

// ehubClock is the simulator's clock, moved by tests instead of sleeping.
type ehubClock struct{ offset atomic.Int64 }

func (c *ehubClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *ehubClock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *ehubClock) reset()                  { c.offset.Store(0) }

func ehubBody(item, patron string) map[string]any {
	return map[string]any{"item": item, "patron": patron}
}

// ehubEnv is a host with the real ehub plugin in front of its simulator.
type ehubEnv struct {
	*env
	sim    *ehubsim.Sim
	simURL string
	wire   *ehubWire
	clock  *ehubClock
}

func startEHub(t *testing.T) *ehubEnv {
	t.Helper()
	clock := &ehubClock{}
	sim := ehubsim.New(ehubsim.WithAPIKey(ehubAPIKey), ehubsim.WithClock(clock.now))
	wire := &ehubWire{patrons: map[string]bool{}, sentKeys: map[string]bool{}}
	simSrv := httptest.NewServer(wire.wrap(sim))
	t.Cleanup(simSrv.Close)
	instance := func(sendPatronID bool) host.ProviderConfig {
		return host.ProviderConfig{
			Plugin:   "ehub",
			Settings: map[string]string{"base_url": simSrv.URL, "api_key": ehubAPIKey},
			// Not the subject here: roomy, so that no call waits for a token.
			Rate:         host.RateConfig{PerSecond: 1000, Burst: 1000},
			SendPatronID: sendPatronID, AllowInsecureHTTP: true,
		}
	}
	cfg := pluginConfig(t, "ehub", map[string]host.ProviderConfig{ehubMain: instance(false), ehubIDs: instance(true)})
	return &ehubEnv{env: start(t, cfg), sim: sim, simURL: simSrv.URL, wire: wire, clock: clock}
}

// upstreamCheckouts returns how many checkout calls reached the simulator.
func (e *ehubEnv) upstreamCheckouts() int { return e.sim.CallsFor(ehubsim.OpCheckout) }

// seedLinks are the links the seed's example record gives for formats, in
// the plugin's documented order (formats by name; content, then supplements),
// with the seed's malformed hrefs ("http:/localhost…") exactly as sent.
func seedLinks(formats ...string) []host.Link {
	var out []host.Link
	for _, f := range formats {
		base := "http:/localhost:16521/ep/api/v1/records/" + ehubsim.RecordMultiFormat + "/" + f + "/"
		out = append(out,
			host.Link{Format: f, Rel: "content", Href: base + "content_0"},
			host.Link{Format: f, Rel: "content", Href: base + "content_1"},
			host.Link{Format: f, Rel: "supplement", Href: base + "supplement_0", Name: "supplement_0"},
			host.Link{Format: f, Rel: "supplement", Href: base + "supplement_1", Name: "supplement_1"},
		)
	}
	return out
}

func linkFormats(ls []host.Link) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, l := range ls {
		if out[l.Format] == nil {
			out[l.Format] = map[string]int{}
		}
		out[l.Format][l.Rel]++
	}
	return out
}

func TestEHubEndToEnd(t *testing.T) {
	e := startEHub(t)
	all := []string{ehubsim.FormatAudioDownloadable, ehubsim.FormatAudioStream, ehubsim.FormatEbook}

	// The seed's record: three formats, content and supplement links,
	// malformed hrefs passed on verbatim, the expiry eHUB gave.
	l := checkout(e.env, ehubMain, ehubBody(ehubsim.RecordMultiFormat, "patron-42"))
	id := l.ProviderRef["checkout_id"]
	c, ok := e.sim.Lookup(id)
	if !ok {
		t.Fatalf("eHUB has no checkout %q; loan %+v", id, l)
	}
	if !reflect.DeepEqual(l.Links, seedLinks(all...)) {
		t.Errorf("links\n got %+v\nwant %+v", l.Links, seedLinks(all...))
	}
	if l.ExpiresAt == nil || !l.ExpiresAt.Equal(c.ExpiresAt.Truncate(time.Second)) {
		t.Errorf("expires_at %v, want eHUB's expirationDate %v", l.ExpiresAt, c.ExpiresAt.Truncate(time.Second))
	}
	if l.Format != ehubsim.FormatAudioDownloadable || l.Status != "active" || l.Item != ehubsim.RecordMultiFormat {
		t.Errorf("loan %+v", l)
	}
	if c.Patron == "patron-42" || c.Patron != pseudonymOf(ehubMain, "patron-42") || c.FormatID != "" {
		t.Errorf("eHUB's checkout %+v, want patron %s and no format", c, pseudonymOf(ehubMain, "patron-42"))
	}

	// An unknown format is kept, links and all.
	video := checkout(e.env, ehubMain, ehubBody(ehubsim.RecordUnknownFormat, "patron-42"))
	if got := linkFormats(video.Links); !reflect.DeepEqual(got, map[string]map[string]int{
		ehubsim.FormatEbook: {"content": 1, "supplement": 1}, ehubsim.FormatUnknown: {"content": 1, "supplement": 1}}) {
		t.Errorf("record with an unknown format: links %+v", video.Links)
	}

	// A checkout in one format lends only that format.
	ebook := checkout(e.env, ehubMain, mergeBody(ehubBody(ehubsim.RecordMultiFormat, "patron-43"), "format", "ebook"))
	if !reflect.DeepEqual(ebook.Links, seedLinks(ehubsim.FormatEbook)) || ebook.Format != ehubsim.FormatEbook {
		t.Errorf("ebook checkout: format %q links %+v", ebook.Format, ebook.Links)
	}
	if c, _ := e.sim.Lookup(ebook.ProviderRef["checkout_id"]); c.FormatID != ehubsim.FormatEbook {
		t.Errorf("eHUB was asked for format %q, want ebook", c.FormatID)
	}

	// The same record for the same patron again.
	calls := e.upstreamCheckouts()
	p := e.expectProblem(e.do("POST", ehubLoans, ehubBody(ehubsim.RecordMultiFormat, "patron-42")), 409, "already_on_loan")
	if p.ProviderCode != "ALREADY_ON_LOAN" || p.Provider != ehubMain || e.upstreamCheckouts() != calls+1 {
		t.Errorf("problem %+v, %d calls", p, e.upstreamCheckouts()-calls)
	}

	// Fulfillment asks eHUB afresh (GET /v1/checkouts/{id}).
	gets := e.sim.CallsFor(ehubsim.OpGet)
	var f host.Fulfillment
	r := e.do("POST", ehubLoans+"/"+l.ID+"/fulfillment", nil)
	r.json(t, &f)
	if r.status != 200 || !reflect.DeepEqual(f.Links, seedLinks(all...)) || e.sim.CallsFor(ehubsim.OpGet) != gets+1 {
		t.Fatalf("fulfillment %d %s (%d GETs)", r.status, r.body, e.sim.CallsFor(ehubsim.OpGet)-gets)
	}
	r = e.do("POST", ehubLoans+"/"+l.ID+"/fulfillment", map[string]any{"format": "audio-stream"})
	f = host.Fulfillment{}
	r.json(t, &f)
	if r.status != 200 || !reflect.DeepEqual(f.Links, seedLinks(ehubsim.FormatAudioStream)) {
		t.Errorf("fulfillment in audio-stream %d %s", r.status, r.body)
	}
	// The browser redirect of a well-formed link.
	f = host.Fulfillment{}
	e.do("POST", ehubLoans+"/"+video.ID+"/fulfillment", nil).json(t, &f)
	u, err := url.Parse(f.Redirect)
	if err != nil || f.Redirect == "" {
		t.Fatalf("redirect %q: %v", f.Redirect, err)
	}
	r = e.do("GET", u.RequestURI(), nil, "Authorization", "")
	if want := "https://ehub.example/ep/api/v1/records/record-video/ebook/content_0"; r.status != http.StatusSeeOther || r.header.Get("Location") != want {
		t.Errorf("content redirect %d to %q, want 303 to %s", r.status, r.header.Get("Location"), want)
	}

	// Renewal and return are not offered; nothing reaches eHUB.
	all0 := e.sim.Calls()
	e.expectProblem(e.do("POST", ehubLoans+"/"+l.ID+"/renewal", map[string]any{"days": 7}), 501, "unsupported_operation")
	e.expectProblem(e.do("DELETE", ehubLoans+"/"+l.ID, nil), 501, "unsupported_operation")
	if e.sim.Calls() != all0 {
		t.Errorf("an unsupported operation reached eHUB")
	}

	// Privacy: on the default instance eHUB only ever saw pseudonyms.
	want := map[string]bool{pseudonymOf(ehubMain, "patron-42"): true, pseudonymOf(ehubMain, "patron-43"): true}
	if got := e.wire.seenPatrons(); !reflect.DeepEqual(got, want) {
		t.Errorf("eHUB saw X-Patron-Id %v, want only the pseudonyms %v", got, want)
	}
	if n := e.eventCount(); n != 3 {
		t.Errorf("%d events, want 3 loan.created", n)
	}
}

// TestEHubErrorTable sends every row of providers.md's eHUB error table
// through HTTP, the host, the real plugin and the simulator.
func TestEHubErrorTable(t *testing.T) {
	e := startEHub(t)
	tests := []struct {
		name     string
		provider string
		body     map[string]any
		status   int
		code     string
		provCode string
	}{
		{"record unknown", ehubMain, ehubBody(ehubsim.RecordUnknown, "p1"), 404, "item_not_found", "INVALID_CONTENT_PROVIDER_RECORD_ID"},
		{"product inactive", ehubMain, ehubBody(ehubsim.RecordInactive, "p1"), 409, "not_available", "PRODUCT_INACTIVE"},
		{"product unavailable", ehubMain, ehubBody(ehubsim.RecordUnavailable, "p1"), 409, "not_available", "PRODUCT_UNAVAILABLE"},
		{"content missing", ehubMain, ehubBody(ehubsim.RecordMissingContent, "p1"), 409, "not_available", "MISSING_CONTENT_IN_LOAN"},
		{"borrower limit", ehubMain, ehubBody(ehubsim.RecordBorrowerLimit, "p1"), 409, "limit_reached", "BORROWER_LIMIT_REACHED"},
		{"library limit", ehubMain, ehubBody(ehubsim.RecordLibraryLimit, "p1"), 409, "limit_reached", "LIBRARY_LIMIT_REACHED"},
		{"download limit", ehubMain, ehubBody(ehubsim.RecordMaxDownloads, "p1"), 409, "limit_reached", "MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED"},
		{"format not offered", ehubMain, mergeBody(ehubBody(ehubsim.RecordEbook, "p1"), "format", "audio-stream"), 400, "invalid_request", "INVALID_FORMAT_ID"},
		{"region", ehubMain, ehubBody(ehubsim.RecordInvalidRegion, "p1"), 400, "invalid_request", "INVALID_REGION_ID"},
		{"patron blocked", ehubIDs, ehubBody(ehubsim.RecordEbook, ehubsim.BlockedPatron), 403, "patron_rejected", "INVALID_PATRON"},
		{"loan creation failed", ehubMain, ehubBody(ehubsim.RecordCreateLoanFailed, "p1"), 502, "provider_error", "CREATE_LOAN_FAILED"},
		{"unknown code", ehubMain, ehubBody(ehubsim.RecordSomethingNew, "p1"), 502, "provider_error", "SOMETHING_NEW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			calls := e.upstreamCheckouts()
			p := e.expectProblem(e.do("POST", "/v1/providers/"+tt.provider+"/loans", tt.body), tt.status, tt.code)
			if p.ProviderCode != tt.provCode || p.Provider != tt.provider {
				t.Errorf("problem %+v, want provider_code %s from %s", p, tt.provCode, tt.provider)
			}
			if e.upstreamCheckouts() != calls+1 {
				t.Errorf("%d checkout calls reached eHUB, want 1", e.upstreamCheckouts()-calls)
			}
		})
	}
	e.t = t
	if n := e.eventCount(); n != 0 || len(e.sim.Checkouts()) != 0 {
		t.Errorf("failed checkouts left %d events and %d eHUB checkouts", n, len(e.sim.Checkouts()))
	}

	// The loan_not_found rows arise on fulfillment (GET /v1/checkouts/{id}).
	lookups := []struct {
		name     string
		setup    func(l host.Loan) // makes eHUB answer the row's error
		provCode string
	}{
		{"checkout gone", func(l host.Loan) {
			id := l.ProviderRef["checkout_id"]
			c, _ := e.sim.Lookup(id)
			req, _ := http.NewRequest("DELETE", e.simURL+"/v1/checkouts/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+ehubAPIKey)
			req.Header.Set(ehubsim.PatronHeader, c.Patron)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("deleting the checkout at eHUB: %v %v", resp, err)
			}
			resp.Body.Close()
		}, "CHECKOUT_NOT_FOUND"},
		{"malformed checkout id", func(host.Loan) { e.wire.redirectNextGet("/v1/checkouts/not-an-id!") }, "INVALID_LOAN_ID"},
		{"loan expired at eHUB", func(host.Loan) { e.clock.advance(22 * 24 * time.Hour) }, "INACTIVE_LOAN"},
	}
	for i, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			defer e.clock.reset()
			l := checkout(e.env, ehubMain, ehubBody(ehubsim.RecordEbook, "lookup-"+string(rune('a'+i))))
			tt.setup(l)
			gets := e.sim.CallsFor(ehubsim.OpGet)
			p := e.expectProblem(e.do("POST", ehubLoans+"/"+l.ID+"/fulfillment", nil), 404, "loan_not_found")
			if p.ProviderCode != tt.provCode || p.Provider != ehubMain {
				t.Errorf("problem %+v, want provider_code %s", p, tt.provCode)
			}
			if e.sim.CallsFor(ehubsim.OpGet) != gets+1 {
				t.Errorf("the fulfillment did not reach eHUB once")
			}
		})
	}
}

// TestEHubSecretsNeverLogged: the api key stays out of the logs, and so
// does the query of a malformed link that the plugin reports.
func TestEHubSecretsNeverLogged(t *testing.T) {
	e := startEHub(t)
	l := checkout(e.env, ehubMain, ehubBody(ehubsim.RecordMalformedLink, "patron-42"))
	if len(l.Links) == 0 || l.Links[0].Href != ehubsim.MalformedHref {
		t.Errorf("the malformed link was not passed on verbatim: %+v", l.Links)
	}
	e.do("POST", ehubLoans+"/"+l.ID+"/fulfillment", nil)
	e.expectProblem(e.do("POST", ehubLoans, ehubBody(ehubsim.RecordCreateLoanFailed, "patron-42")), 502, "provider_error")
	e.sim.SetFaults(ehubsim.Faults{Status: 500})
	e.expectProblem(e.do("POST", ehubLoans, ehubBody(ehubsim.RecordEbook, "patron-42")), 502, "provider_error")
	e.sim.SetFaults(ehubsim.Faults{})
	if !e.wire.sentKeys["Bearer "+ehubAPIKey] {
		t.Fatalf("the plugin did not send the api key; the check below would prove nothing")
	}

	e.h.Close(context.Background()) // flush the plugin's relayed stderr
	logs := e.logs.String()
	// Honest only if the capture holds the host's call lines and the
	// plugin's own lines, relayed from its stderr.
	for _, want := range []string{`"op":"checkout"`, `"op":"fulfill"`, "/v1/checkouts"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the capture has no line with %s; logs:\n%s", want, logs)
		}
	}
	for name, secret := range map[string]string{"eHUB api key": ehubAPIKey, "API key": testAPIKey, "host secret": testSecret, "link token": "simulated-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	// plugins/ehub/README.md: a link that is not an absolute URL is kept and
	// logged at warn.
	warned := logLines(t, logs, "not an absolute URL")
	if len(warned) == 0 {
		t.Fatalf("the plugin did not log the malformed link; logs:\n%s", logs)
	}
	if warned[0]["@level"] != "warn" {
		t.Errorf("the plugin's line about a malformed link reaches the host's log at level %v, want warn: %v", warned[0]["@level"], warned[0]["@message"])
	}
}
