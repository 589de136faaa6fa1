package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/internal/testlog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// attempt is one delivery as the receiver saw it.
type attempt struct {
	id     string
	status int // the receiver's answer
	event  host.Event
}

// receiver is a webhook receiver outside the host, as an ILS would run
// one: it verifies every delivery with the Standard Webhooks library and
// records it. It answers 500 to its first failFirst deliveries, and goes
// down (drops connections, then stops listening) after accepting
// downAfter events, until up is called.
type receiver struct {
	t         *testing.T
	wh        *standardwebhooks.Webhook
	addr      string
	srv       *httptest.Server
	failFirst int
	downAfter int

	mu       sync.Mutex
	attempts []attempt
	accepted int
	isDown   bool
	wentDown chan struct{} // closed on going down
	stopped  chan struct{} // closed once it no longer listens
}

func newReceiver(t *testing.T, secret string, failFirst, downAfter int) *receiver {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, wh: wh, failFirst: failFirst, downAfter: downAfter, wentDown: make(chan struct{}),
		stopped: make(chan struct{})}
	srv := httptest.NewServer(r)
	r.srv, r.addr = srv, srv.Listener.Addr().String()
	t.Cleanup(func() { r.srv.Close() })
	go func() {
		<-r.wentDown
		srv.Close() // no more connections: the host sees it unreachable
		close(r.stopped)
	}()
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/lendgate" }

// up listens again on the same address, accepting every delivery.
func (r *receiver) up() {
	<-r.stopped
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver back on %s: %v", r.addr, err)
	}
	r.mu.Lock()
	r.isDown, r.downAfter = false, 0
	r.mu.Unlock()
	r.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: r}}
	r.srv.Start()
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.isDown {
		// A request on a connection kept alive from before: drop it
		// unanswered, as a receiver that went away would.
		if conn, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
			conn.Close()
		}
		return
	}
	if err != nil {
		r.t.Errorf("receiver: reading a delivery: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.t.Errorf("receiver: a delivery does not verify: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	a := attempt{id: req.Header.Get("webhook-id"), status: http.StatusNoContent}
	if err := json.Unmarshal(body, &a.event); err != nil || a.event.ID != a.id {
		r.t.Errorf("receiver: body %s does not hold the event %s (%v)", body, a.id, err)
	}
	if len(r.attempts) < r.failFirst {
		a.status = http.StatusInternalServerError
	}
	r.attempts = append(r.attempts, a)
	w.WriteHeader(a.status)
	if a.status < 300 {
		r.accepted++
		if r.downAfter > 0 && r.accepted == r.downAfter {
			r.isDown = true
			close(r.wentDown)
		}
	}
}

func (r *receiver) seen() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

// logEvents reads the whole event log of the bolt journal at path (the
// host that wrote it has closed it).
func logEvents(t *testing.T, path string) []host.Event {
	t.Helper()
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var all []host.Event
	after := ""
	for {
		evs, err := st.Events(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			all = append(all, host.Event(e))
		}
		if len(evs) < 1000 {
			return all
		}
		after = evs[len(evs)-1].Cursor
	}
}

// TestWebhookReceiverGetsEveryEvent is the sandbox pushing its events to a
// receiver outside the host that verifies their signatures: a first run
// (-once -db FILE -webhook URL) whose receiver answers 500 to its first
// deliveries and then goes down before the run's events are all delivered
// must exit unsuccessfully, naming the endpoint and its last error; a
// second run on the same journal, with the receiver back, delivers what
// was pending and its own events. The receiver ends with every event of
// the log, each loan's in log order (the default concurrency lets loans
// overtake each other); within a run an event is repeated only after a
// failed attempt, and the second run repeats only events the first
// delivered past its journaled cursor.
func TestWebhookReceiverGetsEveryEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every plugin")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	secret, _, err := webhookSecret("", "")
	if err != nil {
		t.Fatal(err)
	}
	const failFirst, downAfter = 2, 3
	rcv := newReceiver(t, secret, failFirst, downAfter)
	o := options{listen: "127.0.0.1:0", db: filepath.Join(t.TempDir(), "journal.db"),
		webhooks: []string{rcv.url()}, webhookSecret: secret,
		// Long enough for the two retries' backoff (at most 2 s + 4 s) and
		// the deliveries up to downAfter; the rest stays pending.
		drainTimeout: 15 * time.Second}

	var out1 testlog.Buffer // the walk and the host's logger write from several goroutines
	ok, err := run(ctx, &out1, o)
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out1.String())
	}
	select {
	case <-rcv.wentDown:
	default:
		t.Fatalf("the receiver never went down: %d attempts\n%s", len(rcv.seen()), out1.String())
	}
	first := logEvents(t, o.db)
	if len(first) <= downAfter {
		t.Fatalf("the first run logged %d events: too few to leave some pending", len(first))
	}
	// The endpoint is named by its default name, not its URL; at least
	// the events not delivered are queued (more when one delivered after
	// an older one still failing is counted from the cursor).
	queuedLine := regexp.MustCompile(`webhook-1: ([0-9]+) queued, last error: connection`).FindStringSubmatch(out1.String())
	if ok || strings.Contains(out1.String(), "UNEXPECTED") || queuedLine == nil || atoi(queuedLine[1]) < len(first)-downAfter {
		t.Fatalf("first run: ok=%v, want a failed run naming webhook-1 with at least %d queued and its connection error:\n%s",
			ok, len(first)-downAfter, out1.String())
	}
	firstRun := len(rcv.seen())

	rcv.up()
	o.drainTimeout = 30 * time.Second
	var out2 testlog.Buffer
	ok, err = run(ctx, &out2, o)
	if err != nil || !ok {
		t.Fatalf("second run: ok=%v err=%v\n%s", ok, err, out2.String())
	}
	all := logEvents(t, o.db)
	if len(all) <= len(first) {
		t.Fatalf("the second run logged no event (%d in all)", len(all))
	}

	seen := rcv.seen()
	for i := 0; i < failFirst; i++ {
		if seen[i].status != http.StatusInternalServerError {
			t.Errorf("attempt %d: %s answered %d; want the first %d attempts refused", i, seen[i].id, seen[i].status, failFirst)
		}
	}
	byID := map[string]host.Event{}
	loanEvents := map[string][]string{} // each loan's event ids, in log order
	for _, ev := range all {
		byID[ev.ID] = ev
		loanEvents[ev.Loan] = append(loanEvents[ev.Loan], ev.ID)
	}
	deliveredOnce := map[string]bool{}
	var delivered []string
	for run, attempts := range [][]attempt{seen[:firstRun], seen[firstRun:]} {
		last := map[string]attempt{} // each loan's last attempt in this run
		for i, a := range attempts {
			ev, ok := byID[a.id]
			if !ok {
				t.Fatalf("run %d, attempt %d: %s is not in the log", run+1, i, a.id)
			}
			if ev.Cursor != a.event.Cursor || ev.Type != a.event.Type || ev.Loan != a.event.Loan {
				t.Errorf("%s delivered as %+v, logged as %+v", a.id, a.event, ev)
			}
			ids := loanEvents[ev.Loan]
			prev, seenLoan := last[ev.Loan]
			switch {
			case !seenLoan && run == 0 && a.id != ids[0]:
				t.Errorf("run 1, attempt %d: %s before its loan's first event %s", i, a.id, ids[0])
			case seenLoan && prev.status >= 300 && a.id != prev.id:
				t.Errorf("run %d, attempt %d: %s sent while %s of the same loan had failed", run+1, i, a.id, prev.id)
			case seenLoan && prev.status < 300 && indexOf(ids, a.id) != indexOf(ids, prev.id)+1:
				t.Errorf("run %d, attempt %d: %s after %s, not its loan's next event", run+1, i, a.id, prev.id)
			}
			last[ev.Loan] = a
			if a.status < 300 {
				if deliveredOnce[a.id] && run == 0 {
					t.Errorf("run 1, attempt %d: %s again after it was delivered", i, a.id)
				}
				if !deliveredOnce[a.id] {
					delivered = append(delivered, a.id)
				}
				deliveredOnce[a.id] = true
			}
		}
	}
	if len(delivered) != len(all) {
		t.Fatalf("%d distinct events delivered, want the log's %d", len(delivered), len(all))
	}
	t.Logf("%d events delivered over two runs in %d attempts; first run's end:\n%s", len(delivered), len(seen), tail(out1.String(), 8))
}

// TestWebhookSecret: the flag's secret, else the environment's, else a new
// one of 32 random bytes that the host accepts.
func TestWebhookSecret(t *testing.T) {
	const a, b = "whsec_flag", "whsec_env"
	if s, gen, _ := webhookSecret(a, b); s != a || gen {
		t.Errorf("flag and env: got %q generated=%v, want the flag's", s, gen)
	}
	if s, gen, _ := webhookSecret("", b); s != b || gen {
		t.Errorf("env only: got %q generated=%v, want the env's", s, gen)
	}
	s1, gen, err := webhookSecret("", "")
	s2, _, _ := webhookSecret("", "")
	key, derr := base64.StdEncoding.DecodeString(strings.TrimPrefix(s1, "whsec_"))
	if err != nil || !gen || !strings.HasPrefix(s1, "whsec_") || derr != nil || len(key) != 32 || s1 == s2 {
		t.Errorf("generated %q (and %q), generated=%v err=%v: want two different whsec_ secrets of 32 bytes", s1, s2, gen, err)
	}
	var out bytes.Buffer
	if _, err := webhookConfigs(&out, []string{"http://127.0.0.1:9/h?token=abc"}, s1); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "token") || !strings.Contains(out.String(), "allow_insecure_http") {
		t.Errorf("webhook note %q: want the URL without its query and the insecure http said", out.String())
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// tail is the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
