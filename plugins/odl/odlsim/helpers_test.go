package odlsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

// start is the moment every test's clock starts at.
var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	sim   *odlsim.Sim
	srv   *httptest.Server
	clock *testclock.Clock
	// client never follows redirects, so that 303 can be seen.
	client *http.Client
}

func newEnv(t *testing.T, opts ...odlsim.Option) *env {
	t.Helper()
	clk := testclock.New(start)
	sim := odlsim.New(append([]odlsim.Option{odlsim.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clock: clk, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is one response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
	return m
}

// problemType is the type of a problem answer.
func (a answer) problemType(t *testing.T) string {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != odlsim.TypeProblem {
		t.Fatalf("content type %q, want a problem; body %s", ct, a.body)
	}
	s, _ := a.json(t)["type"].(string)
	return s
}

// do sends method to target (absolute, or a path on the simulator) with
// Basic credentials when auth.
func (e *env) do(method, target string, auth bool) answer {
	e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = e.srv.URL + target
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(odlsim.DefaultUsername, odlsim.DefaultPassword)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// checkoutURL is the checkout of licence lic under checkoutID with
// everything a valid request has, changed by edit.
func (e *env) checkoutURL(lic, checkoutID string, edit func(url.Values)) string {
	q := url.Values{"id": {lic}, "checkout_id": {checkoutID}, "patron_id": {"patron-1"},
		"expires": {e.clock.Now().Add(7 * 24 * time.Hour).Format(time.RFC3339)}}
	if edit != nil {
		edit(q)
	}
	return "/checkout?" + q.Encode()
}

// checkout makes a checkout that must answer 201 and returns its LSD.
func (e *env) checkout(lic, checkoutID string, edit func(url.Values)) map[string]any {
	e.t.Helper()
	a := e.do(http.MethodPost, e.checkoutURL(lic, checkoutID, edit), true)
	if a.status != http.StatusCreated {
		e.t.Fatalf("checkout %s: %d %s", checkoutID, a.status, a.body)
	}
	return a.json(e.t)
}

// href is the href of the LSD link with rel (string or array), "" if none.
func href(doc map[string]any, rel string) string {
	links, _ := doc["links"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		switch r := m["rel"].(type) {
		case string:
			if r == rel {
				return m["href"].(string)
			}
		case []any:
			for _, x := range r {
				if x == rel {
					return m["href"].(string)
				}
			}
		}
	}
	return ""
}

// expand fills a {?…} template's query with vals (level 3 query
// expansion, enough for the simulator's templates).
func expand(tmpl string, vals url.Values) string {
	i := strings.Index(tmpl, "{?")
	if i < 0 {
		return tmpl
	}
	return tmpl[:i] + "?" + vals.Encode()
}
