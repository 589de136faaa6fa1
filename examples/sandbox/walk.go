package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host"
)

// distributor is one distributor of the walk-through: its plugin, its
// simulator, the provider instances configured on it and its steps.
type distributor struct {
	name      string
	plugin    string
	sim       http.Handler
	simURL    string
	providers func(simURL string) map[string]host.ProviderConfig
	walk      func(ctx context.Context, w *walker, d *distributor)
	// close, when set, stops what the simulator runs besides serving
	// (a notification sender).
	close func()
}

// walker sends the walk-through's requests and checks each answer.
type walker struct {
	out     io.Writer
	base    string
	apiKey  string
	run     string // unique to this run, for the keys a journal remembers
	client  *http.Client
	section string
	steps   int
	failed  int
}

// result is one answer.
type result struct {
	status int
	header http.Header
	body   []byte
	code   string
}

func (r result) decode(v any) { _ = json.Unmarshal(r.body, v) }

// want describes the expected answer of a step.
type want struct {
	status int
	code   string // unified code of an expected error
}

// req is one request of a step.
type req struct {
	method, path string
	body         any
	headers      map[string]string
	noAuth       bool
}

// step sends r, prints it with its outcome, and counts a failure when the
// answer is not w.
func (w *walker) step(ctx context.Context, title string, r req, expect want) result {
	w.steps++
	var body io.Reader
	if r.body != nil {
		if s, ok := r.body.(string); ok {
			body = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(r.body)
			body = bytes.NewReader(b)
		}
	}
	hr, _ := http.NewRequestWithContext(ctx, r.method, w.base+r.path, body)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !r.noAuth {
		hr.Header.Set("Authorization", "Bearer "+w.apiKey)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	res := result{}
	resp, err := w.client.Do(hr)
	if err == nil {
		res.status, res.header = resp.StatusCode, resp.Header
		res.body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		var p struct{ Code string }
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			_ = json.Unmarshal(res.body, &p)
			res.code = p.Code
		}
	}
	ok := err == nil && res.status == expect.status && res.code == expect.code
	mark := "ok"
	if !ok {
		mark = "UNEXPECTED"
		w.failed++
	}
	got := fmt.Sprintf("%d %s", res.status, res.code)
	if err != nil {
		got = err.Error()
	}
	path := r.path
	if i := strings.Index(path, "sig="); i > 0 {
		path = path[:i] + "sig=…"
	}
	fmt.Fprintf(w.out, "  %-44s %-6s %-62s → %-28s %s\n", title, r.method, shorten(path, 62), strings.TrimSpace(got), mark)
	if !ok {
		fmt.Fprintf(w.out, "      expected %d %s; body: %s\n", expect.status, expect.code, shorten(string(res.body), 300))
	}
	return res
}

// check counts and prints a condition on answers that a status cannot show.
func (w *walker) check(title string, ok bool, detail string) {
	w.steps++
	mark := "ok"
	if !ok {
		mark = "UNEXPECTED"
		w.failed++
	}
	fmt.Fprintf(w.out, "  %-44s %-101s %s\n", title, shorten(detail, 101), mark)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func loanPath(provider, loan string) string {
	return "/v1/providers/" + provider + "/loans/" + loan
}

// run starts the sandbox, walks through every distributor and, unless
// o.serve is false, keeps serving until ctx ends. ok is true when every
// step behaved as expected and, without o.serve, every webhook endpoint
// received every event within o.drainTimeout.
func run(ctx context.Context, out io.Writer, o options) (bool, error) {
	fmt.Fprintln(out, "lendgate sandbox: building plugins, starting simulators and the host…")
	s, stop, err := start(ctx, o, out)
	if err != nil {
		return false, err
	}
	defer stop()
	w := &walker{out: out, base: s.url, apiKey: s.apiKey, run: randomHex(4),
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	w.step(ctx, "readiness", req{method: "GET", path: "/readyz", noAuth: true}, want{status: 200})
	w.step(ctx, "providers", req{method: "GET", path: "/v1/providers"}, want{status: 200})
	for _, d := range s.dists {
		fmt.Fprintf(out, "\n== %s ==\n", d.name)
		d.walk(ctx, w, d)
	}
	fmt.Fprintln(out, "\n== events ==")
	r := w.step(ctx, "event log", req{method: "GET", path: "/v1/events?limit=1000"}, want{status: 200})
	var page host.EventPage
	r.decode(&page)
	kinds := map[string]int{}
	for _, e := range page.Events {
		kinds[e.Type]++
	}
	w.check("events recorded", kinds["loan.created"] > 0 && kinds["loan.returned"] > 0, fmt.Sprintf("%v", kinds))
	fmt.Fprintf(out, "\n%d steps, %d unexpected\n", w.steps, w.failed)
	if !o.serve {
		drained := true
		if len(s.webhooks) > 0 {
			drained = drainWebhooks(ctx, s.h, out, o.drainTimeout, o.db != "")
		} else {
			fmt.Fprintf(out, "(push these events to a receiver with -webhook URL: see go run ./examples/sandbox -h and docs/webhooks.md)\n")
		}
		return w.failed == 0 && drained, nil
	}
	fmt.Fprintf(out, "\nlendgate is serving on %s (Ctrl-C to stop). Try:\n", s.url)
	fmt.Fprintf(out, "  curl -s -H 'Authorization: Bearer %s' %s/v1/providers\n", s.apiKey, s.url)
	fmt.Fprintf(out, "  curl -s -H 'Authorization: Bearer %s' '%s/v1/events?limit=10'\n", s.apiKey, s.url)
	for _, d := range s.dists {
		fmt.Fprintf(out, "  # %s simulator: %s\n", d.name, d.simURL)
	}
	printWebhookHelp(out, s)
	<-ctx.Done()
	return w.failed == 0, nil
}
