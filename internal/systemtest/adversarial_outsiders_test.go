//go:build linux

package systemtest

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

// randName is n random characters of [a-z0-9].
func randName(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Point 2: requests without a key, to the two open endpoints (content
// redirects and notifications), with provider names, tokens and signatures
// of the caller's choosing, grow neither /metrics nor the log by more than
// a few hundred bytes, and no token or signature is ever logged.
func TestAdversarialOutsidersGrowNothing(t *testing.T) {
	dmSim := newDMSim()
	dmURL := serve(t, dmSim)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "demarque")
	cfg.Providers["dm"] = advDMInstance(dmURL)
	srv := startAdv(t, "server", cfg, nil)

	// A real loan, its real notification token and a real signed redirect:
	// values that must not reach the log either.
	co := srv.authed(http.MethodPost, "/v1/providers/dm/loans", mustJSON(host.CheckoutRequest{
		Item: demarquesim.ISBNAvailable, Patron: "outsider-victim", PatronName: "Jane Doe",
		Options: map[string]string{"loan_url": dmSim.LoanURL(dmURL, demarquesim.ISBNAvailable)}}), nil)
	if co.status != http.StatusCreated {
		t.Fatalf("checkout: %v", co)
	}
	var realToken string
	for _, r := range dmSim.Requests() {
		if u := r.Form.Get("notify_url"); u != "" {
			realToken = u[strings.LastIndexByte(u, '/')+1:]
		}
	}
	if realToken == "" {
		t.Fatal("the warehouse got no notify_url")
	}
	var l host.Loan
	mustUnmarshal(t, co.body, &l)
	var f host.Fulfillment
	fa := srv.authed(http.MethodPost, "/v1/providers/dm/loans/"+l.ID+"/fulfillment", []byte(`{}`), nil)
	mustUnmarshal(t, fa.body, &f)
	ru, err := url.Parse(f.Redirect)
	if err != nil || f.Redirect == "" {
		t.Fatalf("fulfillment: %v", fa)
	}
	realSig := ru.Query().Get("sig")

	secrets := []string{realToken, realSig} // every token and signature sent below
	var answers []answer
	send := func(method, path string, body []byte) {
		a := srv.open(method, path, http.Header{"Content-Type": {"application/json"}}, body)
		answers = append(answers, a)
	}
	content := func(provider, loan, sig string) string {
		return "/v1/providers/" + provider + "/loans/" + loan + "/content?format=epub&exp=" +
			fmt.Sprint(time.Now().Add(5*time.Minute).Unix()) + "&sig=" + sig
	}
	notify := func(provider, token string) string { return "/v1/notifications/" + provider + "/" + token }

	// The real values, used as an outsider would after a leak: the token
	// with a body the plugin refuses, the signature on another format.
	send(http.MethodPost, notify("dm", realToken), []byte(`{"type":`))
	send(http.MethodGet, strings.Replace(ru.RequestURI(), "format=epub", "format=pdf", 1), nil)

	base := len(srv.metricsText())
	// One of each first: a host that names unknown providers "unknown"
	// adds that series once (and a refusal at a configured provider its
	// own); what follows must add nothing.
	sig, tok := randName(43), randName(43)
	secrets = append(secrets, sig, tok)
	send(http.MethodGet, content(randName(40), "ln_x", sig), nil)
	send(http.MethodPost, notify(randName(40), tok), []byte(`{}`))
	sig, tok = randName(43), "ln_"+randName(26)+"."+randName(43)
	secrets = append(secrets, sig, tok)
	send(http.MethodGet, content("dm", "ln_"+randName(26), sig), nil)
	send(http.MethodPost, notify("dm", tok), []byte(`{"type":"return"}`))
	warm := len(srv.metricsText())
	logFrom := srv.logSize()

	for i := range 30 {
		sig, tok := randName(43), "ln_"+randName(26)+"."+randName(43)
		secrets = append(secrets, sig, tok)
		send(http.MethodGet, content(randName(1000+i*100), "ln_"+randName(26), sig), nil)
		send(http.MethodPost, notify(randName(1000+i*100), tok), []byte(`{"type":"return"}`))
	}
	// Configured provider, caller's loan, token and signature.
	for range 4 {
		sig, tok := randName(43), "ln_"+randName(3000)+"."+randName(43)
		secrets = append(secrets, sig, tok)
		send(http.MethodGet, content("dm", "ln_"+randName(3000), sig), nil)
		send(http.MethodPost, notify("dm", tok), []byte(`{"type":"return"}`))
	}
	// A few of ~900 KB.
	for range 2 {
		sig, tok := randName(43), randName(43)
		secrets = append(secrets, sig, tok)
		send(http.MethodGet, content(randName(900<<10), "ln_x", sig), nil)
		send(http.MethodPost, notify(randName(900<<10), tok), []byte(`{}`))
	}
	final := srv.metricsText()

	for i, a := range answers {
		switch {
		case a.err == nil && (a.status == http.StatusRequestURITooLong || a.status == http.StatusRequestHeaderFieldsTooLarge):
			// Refused by the HTTP server before the handler: nothing grew.
		case a.err == nil && a.status < 400:
			t.Errorf("request %d without a key answered %v", i, a)
		default:
			if e := problemErr(a); e != "" {
				t.Errorf("request %d: %s", i, e)
			}
		}
	}
	if grew := len(final) - warm; grew > 512 {
		t.Errorf("/metrics grew by %d bytes (%d → %d, read capped at 64 MiB) under %d refused requests, want at most a few hundred", grew, warm, len(final), len(answers)-6)
	}
	if grew := warm - base; grew > 8<<10 {
		t.Errorf("/metrics grew by %d bytes for the first four refused requests, want a few fixed series at most", grew)
	}
	for _, line := range strings.Split(final, "\n") {
		if len(line) > 1024 {
			t.Errorf("/metrics has a line of %d bytes: %.200s…", len(line), line)
			break
		}
	}

	srv.alive(t)
	logged := srv.logSince(logFrom)
	long := 0
	for _, line := range strings.Split(logged, "\n") {
		if len(line) > 1024 {
			long++
			if long <= 3 {
				t.Errorf("a log line of %d bytes after refused requests: %.300s…", len(line), line)
			}
		}
	}
	if long > 3 {
		t.Errorf("%d log lines longer than 1 KB in all", long)
	}
	t.Logf("%d requests: /metrics %d → %d → %d bytes; log grew %d bytes", len(answers), base, warm, len(final), len(logged))
	all := srv.output()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the log holds a token or signature (%.12s…)", s)
		}
	}
}

// Point 9: slow clients do not hold connections. A notification with a
// forged token is refused before its body is read, so a client that
// announces a body and keeps it back gets its 404 at once; a client that
// trickles its headers is cut by the server's timeouts.
func TestAdversarialSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	dmURL := serve(t, newDMSim())
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "demarque")
	cfg.Providers["dm"] = advDMInstance(dmURL)
	srv := startAdv(t, "server", cfg, nil)

	// The trickle runs while the other cases do.
	trickle := make(chan string, 1)
	go func() { trickle <- slowloris(addr, 20*time.Second) }()

	for _, c := range []struct{ name, path string }{
		{"forged token, configured provider", "/v1/notifications/dm/ln_01FORGED." + randName(43)},
		{"malformed token", "/v1/notifications/dm/" + randName(20)},
		{"unknown provider", "/v1/notifications/nope/" + randName(43)},
	} {
		t.Run("a body held back: "+c.name, func(t *testing.T) {
			const bound = 3 * time.Second
			status, took, err := heldBody(addr, c.path, 1000, bound)
			switch {
			case err != nil:
				t.Errorf("no answer within %v while the client held its announced 1000-byte body back: %v", bound, err)
			case status != http.StatusNotFound:
				t.Errorf("answered %d after %v, want 404", status, took)
			default:
				t.Logf("404 after %v", took.Round(time.Millisecond))
			}
		})
	}

	t.Run("a header trickle is cut", func(t *testing.T) {
		if msg := <-trickle; msg != "" {
			t.Error(msg)
		}
	})
	srv.alive(t)
}

// heldBody sends a POST to path announcing a body of n bytes, sends none of
// it, and waits up to bound for the status line.
func heldBody(addr, path string, n int, bound time.Duration) (status int, took time.Duration, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, addr, n)
	conn.SetReadDeadline(start.Add(bound))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, time.Since(start), err
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// slowloris sends a request line and then one header byte every 250 ms,
// and reports ("" if fine) whether the server cut the connection within
// bound.
func slowloris(addr string, bound time.Duration) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr); err != nil {
		return err.Error()
	}
	closed := make(chan struct{})
	go func() {
		conn.SetReadDeadline(start.Add(bound + time.Second))
		io.Copy(io.Discard, conn) // until the server closes (or the deadline)
		close(closed)
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if d := time.Since(start); d <= bound {
				return ""
			} else {
				return fmt.Sprintf("the server cut a header trickle only after %v, want within %v", d.Round(time.Millisecond), bound)
			}
		case <-tick.C:
			if time.Since(start) > bound {
				return fmt.Sprintf("a header trickle held a connection for more than %v", bound)
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				if d := time.Since(start); d <= bound {
					return "" // the server closed it
				}
				return fmt.Sprintf("the server cut a header trickle only after %v", time.Since(start).Round(time.Millisecond))
			}
		}
	}
}
