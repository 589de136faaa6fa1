package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// randomName is n random characters that are valid in a path segment.
func randomName(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// metricsText is /metrics as an outsider reads it.
func (e *env) metricsText() string {
	e.t.Helper()
	r := e.do("GET", "/metrics", nil, "Authorization", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("/metrics: %d", r.status)
	}
	return string(r.body)
}

// seriesCount counts the sample lines of a Prometheus text answer.
func seriesCount(metrics string) int {
	n := 0
	for _, l := range strings.Split(metrics, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// longestLine is the length of the longest line of s.
func longestLine(s string) int {
	longest := 0
	for _, l := range strings.Split(s, "\n") {
		longest = max(longest, len(l))
	}
	return longest
}

// maxOutsiderLogLine is "a log line no larger than a few hundred bytes".
const maxOutsiderLogLine = 600

func TestOutsidersGrowNeitherMetricsNorLogs(t *testing.T) {
	e := start(t, fakeConfig(t))
	rng := rand.New(rand.NewPCG(1, 2))
	before, logsBefore := e.metricsText(), len(e.logs.String())
	exp := strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)
	for i := range 60 {
		name := randomName(rng, 900<<10)
		var r response
		if i%2 == 0 {
			r = e.do("GET", "/v1/providers/"+name+"/loans/ln_x/content?format=epub&exp="+exp+"&sig=AAAA", nil, "Authorization", "")
		} else {
			r = e.do("POST", "/v1/notifications/"+name+"/ln_x.AAAA", `{"type":"return"}`, "Authorization", "")
		}
		if r.status != http.StatusForbidden && r.status != http.StatusNotFound {
			t.Fatalf("request %d: status %d: %.200s", i, r.status, r.body)
		}
		r.problem(t)
	}
	after := e.metricsText()
	if grown := len(after) - len(before); grown > 512 {
		t.Errorf("/metrics grew by %d bytes after 60 refused requests (from %d)", grown, len(before))
	}
	if strings.Count(after, `provider="`) > strings.Count(before, `provider="`)+2 {
		t.Errorf("new provider series beyond one per refused operation:\n%s", after)
	}
	if !strings.Contains(after, `provider="unknown"`) {
		t.Errorf("refused requests at unknown providers are not counted as provider=\"unknown\":\n%s", after)
	}
	logs := e.logs.String()[logsBefore:]
	if n := longestLine(logs); n > maxOutsiderLogLine {
		t.Errorf("a log line of %d bytes", n)
	}
	if !strings.Contains(logs, `"op":"notification"`) || !strings.Contains(logs, `"op":"content"`) {
		t.Errorf("refused calls are not logged at all:\n%.2000s", logs)
	}
}

func TestForgedSignaturesAtAKnownProviderAddNoSeries(t *testing.T) {
	e := start(t, fakeConfig(t))
	rng := rand.New(rand.NewPCG(3, 4))
	exp := strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)
	forge := func() {
		loan := randomName(rng, 100<<10)
		e.expectProblem(e.do("GET", "/v1/providers/fake-a/loans/"+loan+"/content?format=epub&exp="+exp+"&sig="+randomName(rng, 43), nil, "Authorization", ""), http.StatusForbidden, "forbidden")
		e.expectProblem(e.do("POST", "/v1/notifications/fake-a/"+loan+".AAAA", `{}`, "Authorization", ""), http.StatusNotFound, "loan_not_found")
	}
	forge() // the first refusal of each kind may add its (bounded) series
	series, logsBefore := seriesCount(e.metricsText()), len(e.logs.String())
	for range 20 {
		forge()
	}
	if got := seriesCount(e.metricsText()); got != series {
		t.Errorf("series went from %d to %d with forged signatures and tokens", series, got)
	}
	if n := longestLine(e.logs.String()[logsBefore:]); n > maxOutsiderLogLine {
		t.Errorf("a log line of %d bytes", n)
	}
}

// failingStore fails every Apply while fail is set.
type failingStore struct {
	journal.Store
	fail atomic.Bool
}

func (s *failingStore) Apply(ctx context.Context, r journal.Loan, ev journal.Event, key string) (journal.Event, bool, error) {
	if s.fail.Load() {
		return journal.Event{}, false, errors.New("disk I/O error")
	}
	return s.Store.Apply(ctx, r, ev, key)
}

func TestNotificationTokenNotLoggedWhenTheStoreFails(t *testing.T) {
	cfg := fakeConfig(t)
	store := &failingStore{Store: memory.New()}
	cfg.StoreImpl = store
	e := start(t, cfg)
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	notifyURL := l.ProviderRef["notify_url"]
	token := notifyURL[strings.LastIndex(notifyURL, "/")+1:]
	mac := token[strings.Index(token, ".")+1:]
	store.fail.Store(true)
	r := e.do("POST", strings.TrimPrefix(notifyURL, e.srv.URL), `{"type":"return"}`, "Authorization", "")
	if r.status < 500 {
		t.Fatalf("a failing store answered %d: %s", r.status, r.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "disk I/O error") {
		t.Fatalf("the store's failure is not logged:\n%s", logs)
	}
	if strings.Contains(logs, mac) {
		t.Errorf("the notification token appears in the logs:\n%s", logs)
	}
}

// rawPost sends a request's head announcing a body of contentLength bytes,
// sends none of it, and reads the answer while holding the body back. The
// read deadline only keeps a broken host from hanging the test.
func rawPost(t *testing.T, e *env, path string, contentLength int) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: lendgate\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, contentLength)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: no answer while the body is held back: %v", path, err)
	}
	resp.Body.Close()
	return resp
}

func TestForgedNotificationAnsweredBeforeItsBody(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	for _, path := range []string{
		"/v1/notifications/fake-a/" + l.ID + ".AAAA", // forged token of a real loan
		"/v1/notifications/fake-a/garbage",
		"/v1/notifications/nope/" + l.ID + ".AAAA", // unknown provider
	} {
		resp := rawPost(t, e, path, 1000)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
		if !resp.Close {
			t.Errorf("%s: the connection is kept open with an unread body", path)
		}
	}
	// A real token with a body announced beyond the cap: 413 at once.
	notify := strings.TrimPrefix(l.ProviderRef["notify_url"], e.srv.URL)
	if resp := rawPost(t, e, notify, 10<<20); resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Errorf("an announced 10 MiB notification: status %d, close %v", resp.StatusCode, resp.Close)
	}
	// And the real token with its body still works.
	if r := e.do("POST", notify, `{"type":"return"}`, "Authorization", ""); r.status != http.StatusNoContent {
		t.Fatalf("a real notification: %d %s", r.status, r.body)
	}
}

func TestBearerSchemeInAnyCase(t *testing.T) {
	e := start(t, fakeConfig(t))
	for _, h := range []string{"Bearer " + testAPIKey, "bearer " + testAPIKey, "BEARER " + testAPIKey, "bEaReR   " + testAPIKey + " "} {
		if r := e.do("GET", "/v1/providers", nil, "Authorization", h); r.status != http.StatusOK {
			t.Errorf("Authorization %q: %d", strings.Replace(h, testAPIKey, "KEY", 1), r.status)
		}
	}
	for _, h := range []string{"Basic " + testAPIKey, "Bearer" + testAPIKey, "Bearer ", testAPIKey, "Bearer x" + testAPIKey} {
		e.expectProblem(e.do("GET", "/v1/providers", nil, "Authorization", h), http.StatusUnauthorized, "unauthorized")
	}
}
