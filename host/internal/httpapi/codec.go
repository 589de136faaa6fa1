package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/host/internal/logsafe"

	"github.com/lendgate/lendgate/host/api"
	"github.com/lendgate/lendgate/sdk"
)

const (
	maxBodyBytes         = api.MaxBodyBytes
	maxNotificationBytes = api.MaxNotificationBytes
	maxLoggedText        = logsafe.MaxText
	// maxDetail bounds a problem's detail whatever made it: the messages
	// that quote a caller cut what they quote to 120 bytes (logsafe.Echo),
	// and a plugin's message is capped at 1 KiB on the wire.
	maxDetail = 1536
)

// reply writes v as a 200 answer, or returns err for the problem.
func reply(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// replyLoan writes the loan of a keyed operation with status, marked
// Idempotent-Replayed when it is the first answer again, or returns err.
func replyLoan(w http.ResponseWriter, status int, l api.Loan, replayed bool, err error) error {
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, status, bodyOf(l))
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly: one object, no unknown fields, at most
// maxBodyBytes (413 beyond).
func (s *server) decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return invalid("Content-Type must be application/json")
	}
	buf := s.bodyBuffer()
	defer s.putBodyBuffer(buf)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return invalid("reading body: %v", err)
	}
	body := buf.Bytes()
	if len(bytes.TrimSpace(body)) == 0 {
		return errNoBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// The decoder's text may quote what was sent (an unknown member).
		return invalid("invalid JSON body: %s", logsafe.Echo(strings.TrimPrefix(err.Error(), "json: ")))
	}
	if dec.More() {
		return invalid("invalid JSON body: more than one value")
	}
	return nil
}

// bodyBuffer returns a buffer to read a request body into, from the
// server's pool (s.bodies): decoding copies every value out, so a buffer is
// free again once decode returns.
func (s *server) bodyBuffer() *bytes.Buffer {
	if b, ok := s.bodies.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBodyBuffer returns buf to the pool, unless a large body grew it: the
// pool keeps small buffers, not the largest body ever read.
func (s *server) putBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 64<<10 {
		return
	}
	buf.Reset()
	s.bodies.Put(buf)
}

// decodeOptional is decode for endpoints whose body may be empty or absent.
func (s *server) decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	err := s.decode(r, v)
	if err == errNoBody { // identity: errors.Is would match any invalid_request
		return nil
	}
	return err
}

// errNoBody is the answer to a missing body where one is required.
var errNoBody = invalid("a JSON body is required")

// errBodyTooLarge and errNotificationTooLarge are invalid_request with
// status 413.
var (
	errBodyTooLarge         error = &tooLarge{e: invalid("request body is larger than %d bytes", maxBodyBytes)}
	errNotificationTooLarge error = &tooLarge{e: invalid("notification body is larger than %d bytes", maxNotificationBytes)}
)

type tooLarge struct{ e *sdk.Error }

func (t *tooLarge) Error() string { return t.e.Error() }
func (t *tooLarge) Unwrap() error { return t.e }

func queryInt(r *http.Request, key string) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, invalid("%s must be a non-negative integer", key)
	}
	return n, nil
}

func invalid(format string, args ...any) *sdk.Error {
	return sdk.Errorf(sdk.CodeInvalidRequest, format, args...)
}

// problemFor renders err as a problem for provider, from the code table.
func problemFor(err error, provider string) api.Problem {
	var e *sdk.Error
	if !errors.As(err, &e) {
		// Not one of ours: an internal failure. Never echo its text, which
		// could carry anything.
		e = &sdk.Error{Code: sdk.CodeProviderError, Message: "internal error"}
	}
	k := e.Code.Info()
	p := api.Problem{
		Type:         "https://lendgate.dev/problems/" + strings.ReplaceAll(string(e.Code), "_", "-"),
		Title:        k.Title,
		Status:       k.Status,
		Detail:       logsafe.Clip(e.Message, maxDetail),
		Code:         string(e.Code),
		Provider:     logsafe.Echo(provider),
		ProviderCode: e.ProviderCode,
		Retryable:    k.Retryable,
	}
	var le *api.LoanError
	if errors.As(err, &le) {
		p.Loan = logsafe.Echo(le.Loan)
	}
	if e.RetryAfter > 0 {
		p.RetryAfter = int(math.Ceil(e.RetryAfter.Seconds()))
	}
	return p
}

// writeProblem writes err as application/problem+json. 429 and 503 always
// carry Retry-After.
func writeProblem(w http.ResponseWriter, err error, provider string) {
	p := problemFor(err, provider)
	if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
		if p.RetryAfter <= 0 {
			p.RetryAfter = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeProblemStatus writes a problem with an HTTP status of its own (404
// and 405 of routing, 413).
func writeProblemStatus(w http.ResponseWriter, status int, e *sdk.Error) {
	p := problemFor(e, "")
	p.Status = status
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// clip is logsafe.Clip: what a caller sent, cut short for a log or an answer.
func clip(s string, n int) string { return logsafe.Clip(s, n) }
