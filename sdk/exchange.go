package sdk

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	pb "github.com/lendgate/lendgate/internal/providerv1"
)

// Exchange is a distributor's HTTP API as a connector talks to it: one
// request with the call's context, the answer read under a size cap, an
// error answer turned into an *Error through the connector's ErrorTable
// (Retry-After included), and a failed transport turned into
// CodeProviderTimeout or CodeProviderError with a text that names neither
// the distributor's address nor any secret. Every message it makes is safe
// to show to a library.
//
//	x := &sdk.Exchange{Name: "Acme", Client: sdk.HTTPClient(settings), Base: base,
//		Header: http.Header{"Authorization": {"Bearer " + key}}, Secrets: []string{key}, Errors: acmeErrors}
//	var out loanAnswer
//	err := x.JSON(ctx, http.MethodPost, "/api/loans", loanRequest{…}, &out)
//
// Every error it makes says what it means for the distributor (Error.Outcome,
// api.md §7 "decided by what was sent"); the unified code is the same as it
// would be without it. The request counts as sent once the client obtained a
// connection for it (net/http/httptrace's GotConn): after that a byte may
// have reached the distributor, and nothing proves otherwise.
//
//   - OutcomeNotSent: a failure before a connection was had: the request
//     could not be built, the name did not resolve, the dial was refused or
//     timed out, the TLS handshake failed, the context ended (deadline or
//     cancel) before a connection.
//   - OutcomeDefinitive: the distributor answered and the answer is
//     understood: a 2xx that the caller decodes (no error), a 4xx other
//     than 408, a 2xx that carries the distributor's own error message
//     (read with Error), and a 5xx or 408 whose body carries a code listed
//     in ErrorTable.Codes (a documented failure, such as CB's EBS-00001).
//   - OutcomeUnknown: everything after the request was sent without such an
//     answer: the connection reset or closed, a timeout, a 5xx or 408 whose
//     body has no code of ErrorTable.Codes (a gateway's HTML page, a bare
//     503, Retry-After or not), a 3xx left over after the client's
//     redirects, an answer whose body could not be read or is over MaxBody,
//     and a 2xx that Decode (or JSON) cannot read.
//
// The host keeps the loan and parks the Idempotency-Key of a checkout,
// renewal or return whose outcome is unknown; it deletes the pending loan
// and frees the key of one not sent or definitively refused. List in
// ErrorTable.Codes only codes that say the request was not carried out: a
// 5xx code listed there makes the host forget the attempt. An error a
// connector makes itself after an answer (a 2xx that parses but lacks a
// field it needs) is unknown: mark it with WithOutcome(OutcomeUnknown).
//
// An Exchange is safe for concurrent use once set up; do not change its
// fields afterwards.
type Exchange struct {
	// Name names the distributor in messages ("Acme answered 409 …").
	Name string
	// Client sends the requests: sdk.HTTPClient(settings), for lendgate's
	// TLS policy and timeouts.
	Client *http.Client
	// Base is the API's base URL (sdk.BaseURL); request paths join onto it.
	Base *url.URL
	// Header is sent with every request (credentials, User-Agent).
	Header http.Header
	// Secrets are removed from every message the Exchange makes, whatever
	// echoes them back (API keys, passwords, tokens).
	Secrets []string
	// Errors maps the distributor's error answers onto unified codes.
	Errors ErrorTable
	// MaxBody caps an answer's body (default: DefaultMaxBodyBytes).
	MaxBody int64
	// Now is the clock Retry-After dates are read against (default time.Now).
	Now func() time.Time
}

// ErrorTable is how a connector reads its distributor's error answers: the
// distributor's own code decides first, then the HTTP status, then the
// defaults (see Error).
type ErrorTable struct {
	// Decode reads the distributor's code and message out of an error
	// answer's body; nil reads a JSON object's "code" (or "error",
	// "error_code") and "message" (or "error_description", "detail").
	Decode func(body []byte) (providerCode, message string)
	// Codes maps the distributor's codes onto unified codes.
	Codes map[string]Code
	// Statuses maps HTTP statuses onto unified codes, for answers whose code
	// is not in Codes.
	Statuses map[int]Code
	// PerRequest lists the distributor's codes that are about the request,
	// not the distributor: their pause (Retry-After) is ScopeRequest, so the
	// host does not pause the instance for one title that has no price yet.
	// Every other pause stops the whole instance until it has passed, as a
	// distributor's 429 asks.
	PerRequest []string
	// OnlyTryLaterPauses drops the Retry-After of every error but a
	// try_later: only a pause the distributor asks for (a 429) stops calls,
	// and a failing distributor (a 503, Retry-After or not) is the host's
	// breaker's to count.
	OnlyTryLaterPauses bool
}

// Error turns an error answer into an *Error:
//
//   - the code: Codes[providerCode], else Statuses[status], else
//     CodeTryLater for a 429 (and for a 503 with Retry-After),
//     CodeProviderCredentials for a 401, CodeProviderError for anything else;
//   - the provider code: the distributor's code, or "HTTP <status>";
//   - the pause: Retry-After (bounded by MaxRetryAfter), instance-scoped
//     unless the code is in PerRequest; none but a try_later's with
//     OnlyTryLaterPauses;
//   - the message: "<Name> answered <status> <code>: <its message>", its
//     message cut to 300 bytes, without control characters, secrets or URL
//     query values;
//   - the outcome: OutcomeDefinitive, except for a 5xx or a 408 whose code
//     is not in Codes, which is OutcomeUnknown (a gateway or a server that
//     failed may have done the work before it failed).
func (x *Exchange) Error(status int, header http.Header, body []byte) *Error {
	decode := x.Errors.Decode
	if decode == nil {
		decode = DecodeJSONError
	}
	pc, msg := decode(body)
	pc = x.clean(pc, maxWireProviderCode)
	msg = x.clean(msg, maxExchangeMessage)
	retry := RetryAfter(header, x.now())
	code, documented := x.Errors.Codes[pc]
	documented = documented && pc != ""
	ok := documented
	if !ok {
		code, ok = x.Errors.Statuses[status]
	}
	if !ok {
		switch {
		case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable && retry > 0:
			code = CodeTryLater
		case status == http.StatusUnauthorized:
			code = CodeProviderCredentials
		default:
			code = CodeProviderError
		}
	}
	if pc == "" {
		pc = fmt.Sprintf("HTTP %d", status)
	}
	text := fmt.Sprintf("%s answered %d %s", x.name(), status, pc)
	if msg != "" {
		text += ": " + msg
	}
	e := Errorf(code, "%s", text).WithProviderCode(pc).WithOutcome(answerOutcome(status, documented))
	if retry > 0 {
		e.WithRetryAfter(retry)
		for _, r := range x.Errors.PerRequest {
			if r == pc {
				e.ForRequest()
			}
		}
	}
	if x.Errors.OnlyTryLaterPauses && code != CodeTryLater {
		e.RetryAfter = 0
	}
	return e
}

// answerOutcome is what an error answer says of the request's effect: a
// 4xx (but 408, a request the server gave up reading) and any answer with
// the distributor's own documented code are definitive; a 5xx or 408
// without one may come from a gateway in front of a distributor that acted.
func answerOutcome(status int, documented bool) Outcome {
	if (status >= 500 || status == http.StatusRequestTimeout) && !documented {
		return OutcomeUnknown
	}
	return OutcomeDefinitive
}

// maxExchangeMessage bounds how much of a distributor's own message is
// passed on.
const maxExchangeMessage = 300

// DecodeJSONError is ErrorTable's default Decode: a JSON object's "code",
// "error" or "error_code", and its "message", "error_description" or
// "detail" (string values only). A body that is not such an object gives
// nothing, and the status decides.
func DecodeJSONError(body []byte) (providerCode, message string) {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil {
		return "", ""
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := obj[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	return first("code", "error", "error_code"), first("message", "error_description", "detail")
}

// Request is one request to the distributor.
type Request struct {
	Method string
	// Path joins onto Exchange.Base; it is taken as already escaped, so
	// escape a segment that comes from data with url.PathEscape.
	Path  string
	Query url.Values
	// Header adds to (and overrides) Exchange.Header for this request.
	Header http.Header
	// JSON, when not nil, is sent as a JSON body; Form as a form body.
	JSON any
	Form url.Values
}

// Answer is a distributor's 2xx answer, its body read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r and reads the answer. A 2xx answer is returned; anything else
// is an *Error: the error answer through Error, a failed transport through
// the transport rules of the type's doc, each with its Outcome. Do never
// returns any other error.
func (x *Exchange) Do(ctx context.Context, r Request) (Answer, error) {
	// sent turns true once a connection was obtained for the request (or
	// for a redirect's): from then on a byte may have reached the
	// distributor.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { sent.Store(true) }})
	req, rerr := x.request(ctx, r)
	if rerr != nil {
		return Answer{}, rerr.WithOutcome(OutcomeNotSent)
	}
	client := x.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, x.transportError(ctx, err, sent.Load())
	}
	defer resp.Body.Close()
	limit := x.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Answer{}, x.transportError(ctx, err, true)
	}
	if int64(len(body)) > limit {
		return Answer{}, x.transportError(ctx, ErrBodyTooLarge, true)
	}
	switch {
	case resp.StatusCode >= 400:
		return Answer{}, x.Error(resp.StatusCode, resp.Header, body)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// The client follows redirects, so a 3xx here has nowhere to go:
		// what the distributor did with the request is not known.
		return Answer{}, Errorf(CodeProviderError, "%s answered an unexpected HTTP %d", x.name(), resp.StatusCode).
			WithProviderCode(fmt.Sprintf("HTTP %d", resp.StatusCode)).WithOutcome(OutcomeUnknown)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// JSON sends in (nil: no body) as JSON with method to path and decodes a
// 2xx answer into out (nil: the body is ignored). Errors as for Do; an
// answer that does not decode is a CodeProviderError of OutcomeUnknown.
func (x *Exchange) JSON(ctx context.Context, method, path string, in, out any) error {
	a, err := x.Do(ctx, Request{Method: method, Path: path, JSON: in})
	if err != nil {
		return err
	}
	return x.Decode(a, out)
}

// Decode reads a JSON answer into out (nil: nothing to read). An empty or
// unreadable body is a CodeProviderError of OutcomeUnknown: the request was
// answered, and what the distributor did is not known.
func (x *Exchange) Decode(a Answer, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return Errorf(CodeProviderError, "%s's answer (HTTP %d) is unreadable", x.name(), a.Status).WithOutcome(OutcomeUnknown)
	}
	return nil
}

// request builds the HTTP request of r.
func (x *Exchange) request(ctx context.Context, r Request) (*http.Request, *Error) {
	if x.Base == nil {
		return nil, Errorf(CodeProviderError, "the connector has no base URL for %s", x.name())
	}
	u := x.Base.JoinPath(r.Path)
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			// A connector's own bug: the request never left.
			return nil, Errorf(CodeProviderError, "encoding the request to %s failed", x.name())
		}
		body, contentType = bytes.NewReader(b), "application/json"
	case r.Form != nil:
		body, contentType = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, Errorf(CodeProviderError, "building the request to %s failed", x.name())
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range x.Header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range r.Header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	return req, nil
}

func (x *Exchange) name() string {
	if x.Name == "" {
		return "the distributor"
	}
	return x.Name
}

func (x *Exchange) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// transportError is TransportError with the distributor's name and the
// outcome: unknown once the request was sent, else not sent.
func (x *Exchange) transportError(ctx context.Context, err error, sent bool) *Error {
	e := transportError(ctx, err, x.name())
	e.Message = x.scrub(e.Message)
	if sent {
		return e.WithOutcome(OutcomeUnknown)
	}
	return e.WithOutcome(OutcomeNotSent)
}

// transportError turns a failed exchange into the unified code with a text
// that says what failed and never where: a dial error's text carries the
// distributor's address, a url.Error's its whole URL.
func transportError(ctx context.Context, err error, who string) *Error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return Wrap(CodeProviderTimeout, context.DeadlineExceeded, "%s did not answer in time", who)
	case errors.Is(err, context.Canceled):
		return Wrap(CodeProviderError, context.Canceled, "the call to %s was canceled", who)
	case errors.Is(err, ErrBodyTooLarge):
		return Errorf(CodeProviderError, "%s's answer is larger than the body size cap", who)
	}
	return Errorf(CodeProviderError, "%s could not be reached (%s)", who, transportReason(err))
}

// transportReason names the kind of a transport failure, in words that
// hold no address.
func transportReason(err error) string {
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		rec  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &dns):
		return "name not resolved"
	case errors.As(err, &cert), errors.As(err, &ua), errors.As(err, &host):
		return "its TLS certificate is not trusted"
	case errors.As(err, &rec):
		return "TLS handshake failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed before the answer was complete"
	case strings.Contains(err.Error(), "redirect"):
		return "refused redirect"
	}
	return "transport error"
}

// clean makes distributor text safe to pass on: secrets and URL query
// values removed, no control characters (they would forge log lines),
// trimmed, at most max bytes.
func (x *Exchange) clean(s string, max int) string {
	s = x.scrub(s)
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return pb.CapText(strings.TrimSpace(s), max)
}

// scrub removes the Exchange's secrets and every URL's credentials and
// query values from s.
func (x *Exchange) scrub(s string) string {
	for _, sec := range x.Secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return redactURLs(s)
}

// urlPattern finds absolute URLs in free text.
var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// redactURLs replaces every URL in s with its RedactURL form (no user info,
// query values or fragment).
func redactURLs(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return "[url]"
		}
		return RedactURL(u)
	})
}
