package host

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Caps on what a webhook receiver sends back: its answer is read only to
// free the connection, and then discarded.
const (
	maxWebhookAnswerBytes = 64 << 10
	maxWebhookHeaderBytes = 64 << 10
)

// webhookClient posts signed events: TLS 1.2 or newer, one deadline per
// attempt (connection, answer and body included), no redirects followed (a
// 3xx is a failed attempt, so a receiver cannot point the host elsewhere).
type webhookClient struct {
	http    *http.Client
	timeout time.Duration
}

func newWebhookClient(t webhookTiming) webhookClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: t.roots}
	tr.MaxResponseHeaderBytes = maxWebhookHeaderBytes
	// Every delivery in flight keeps its connection for the next one
	// (the default keeps 2 per host and closes the others).
	tr.MaxIdleConnsPerHost = maxWebhookConcurrency
	return webhookClient{timeout: t.timeout, http: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// webhookResult is one attempt: kind is "" when delivered, else "status"
// (an answer other than 2xx), "timeout" or "connection".
type webhookResult struct {
	status int
	kind   string
	detail string // for the log: never the URL, which may carry a token
	took   time.Duration
}

// send makes one attempt at delivering body as event id, signed the
// Standard Webhooks way with a fresh timestamp.
func (c webhookClient) send(ctx context.Context, ep *webhookEndpoint, id string, body []byte) (res webhookResult) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// The timestamp is wall time: receivers compare it with their clock.
	sig, err := ep.signer.Sign(id, start, body)
	if err != nil {
		return webhookResult{kind: "connection", detail: "signing failed"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return webhookResult{kind: "connection", detail: "building the request failed"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lendgate-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(start.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := c.http.Do(req)
	if err != nil {
		return webhookResult{kind: failureKind(ctx, err), detail: withoutURL(err)}
	}
	// The status decides; the body is drained (capped) only so that the
	// connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookAnswerBytes))
	resp.Body.Close()
	res = webhookResult{status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.kind = "status"
	}
	return res
}

func failureKind(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	return "connection"
}

// withoutURL is err's text without the request URL that net/http puts in
// front of it.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
