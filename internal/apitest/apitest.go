// Package apitest checks HTTP exchanges against the API's OpenAPI document
// (api.OpenAPI, served at GET /v1/openapi.json), so that the document
// cannot drift from what the host does: the end-to-end tests send their
// requests through Transport, which validates each request and each answer
// with github.com/pb33f/libopenapi-validator and reports every disagreement
// as a test error.
//
// The rules, per exchange:
//   - the answer must match the document's response for its operation and
//     status (body schema, required headers);
//   - a request the document refuses (unknown member, missing field, wrong
//     type) must have been refused by the host too, with a 4xx answer: the
//     tests send such requests on purpose, and a host that accepts one
//     disagrees with the document;
//   - a request to a path or method the document does not have must be
//     answered 404 or 405 with a problem body that matches the document's
//     Problem schema;
//   - a request made while following a redirect (to the distributor's link)
//     is not checked: it is not the API's.
package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/lendgate/lendgate/host/api"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Reporter receives the disagreements; *testing.T and *testing.B are
// Reporters.
type Reporter interface {
	Errorf(format string, args ...any)
}

// checker is the document compiled once per test binary: building the
// model and its schemas takes longer than most requests.
type checker struct {
	v       validator.Validator
	problem *base.Schema
	schemas schema_validation.SchemaValidator
}

var (
	loadOnce sync.Once
	loaded   *checker
	loadErr  error
)

func load() (*checker, error) {
	loadOnce.Do(func() { loaded, loadErr = compile(api.OpenAPI()) })
	return loaded, loadErr
}

// compile builds a checker for doc.
func compile(doc []byte) (*checker, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI document: %w", err)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the OpenAPI model: %w", err)
	}
	if m == nil || m.Model.Components == nil || m.Model.Components.Schemas == nil {
		return nil, errors.New("the OpenAPI document has no components.schemas")
	}
	p := m.Model.Components.Schemas.GetOrZero("Problem")
	if p == nil {
		return nil, errors.New("the OpenAPI document has no Problem schema")
	}
	opts := []config.Option{config.WithFormatAssertions()}
	return &checker{
		v:       validator.NewValidatorFromV3Model(&m.Model, opts...),
		problem: p.Schema(),
		schemas: schema_validation.NewSchemaValidator(opts...),
	}, nil
}

// ValidateDocument checks the document itself against the OpenAPI 3.1
// specification's schema and returns every violation.
func ValidateDocument(doc []byte) []error {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return []error{fmt.Errorf("parsing: %w", err)}
	}
	if v := d.GetVersion(); !strings.HasPrefix(v, "3.1") {
		return []error{fmt.Errorf("openapi version %q, want 3.1.x", v)}
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return errs
	}
	var out []error
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			out = append(out, e)
		}
	}
	return out
}

// Transport returns a RoundTripper that sends each request through base
// (http.DefaultTransport when nil) and reports to r every way in which the
// request or its answer disagrees with the document.
func Transport(r Reporter, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{r: r, base: base}
}

type transport struct {
	r    Reporter
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Response != nil {
		// Following a redirect: the target is the distributor's.
		return t.base.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apitest: reading the request body: %w", err)
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err // no answer, nothing to check
	}
	respBody, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = &replayBody{r: bytes.NewReader(respBody), err: readErr}
	if readErr != nil {
		return resp, nil // a cut answer (a killed server): nothing to check
	}
	c, err := load()
	if err != nil {
		t.r.Errorf("apitest: %v", err)
		return resp, nil
	}
	for _, msg := range c.check(req, reqBody, resp, respBody) {
		t.r.Errorf("apitest: %s %s → %d: %s\n\trequest body: %s\n\tresponse body: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, msg, clip(reqBody), clip(respBody))
	}
	return resp, nil
}

// check returns what disagrees with the document in one exchange.
func (c *checker) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []string {
	vreq := withBody(req, reqBody)
	_, reqErrs := c.v.ValidateHttpRequestSync(vreq)
	for _, e := range reqErrs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			return c.checkUnrouted(e, resp, respBody)
		}
	}
	var out []string
	if len(reqErrs) > 0 && (resp.StatusCode < 400 || resp.StatusCode > 499) {
		out = append(out, fmt.Sprintf("the document refuses this request, the host answered %d: %s", resp.StatusCode, describe(reqErrs)))
	}
	vresp := *resp
	vresp.Body = io.NopCloser(bytes.NewReader(respBody))
	if ok, errs := c.v.ValidateHttpResponse(withBody(req, reqBody), &vresp); !ok {
		out = append(out, "the answer does not match the document: "+describe(errs))
	}
	return out
}

// checkUnrouted checks the answer to a path or method the document does
// not have: 404 or 405, as a problem.
func (c *checker) checkUnrouted(e *verrors.ValidationError, resp *http.Response, body []byte) []string {
	want := http.StatusNotFound
	if e.IsOperationMissingError() {
		want = http.StatusMethodNotAllowed
	}
	if resp.StatusCode != want {
		return []string{fmt.Sprintf("not in the document (%s), answered %d, want %d", e.Message, resp.StatusCode, want)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/problem+json" {
		return []string{fmt.Sprintf("a %d answer with Content-Type %q, want application/problem+json", want, resp.Header.Get("Content-Type"))}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("a %d answer whose body is not JSON: %v", want, err)}
	}
	if ok, errs := c.schemas.ValidateSchemaObject(c.problem, v); !ok {
		return []string{"a routing problem that does not match the Problem schema: " + describe(errs)}
	}
	return nil
}

func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if body == nil {
		r.Body = http.NoBody
		r.ContentLength = 0
		return r
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

func describe(errs []*verrors.ValidationError) string {
	var parts []string
	for _, e := range errs {
		s := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			s += " (" + e.Reason + ")"
		}
		for _, f := range e.SchemaValidationErrors {
			s += "; " + f.Error()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func clip(b []byte) string {
	const max = 400
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// replayBody gives back a response body that was read in full, and the
// error that ended the read, if any.
type replayBody struct {
	r   *bytes.Reader
	err error
}

func (b *replayBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		return n, b.err
	}
	return n, err
}

func (b *replayBody) Close() error { return nil }

// Recorder is a Reporter for clients that outlive any one test (a
// package-level http.Client): it keeps what it is told, for Report.
type Recorder struct {
	mu       sync.Mutex
	failures []string
}

// Errorf records one disagreement.
func (r *Recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// Failures returns what was recorded.
func (r *Recorder) Failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.failures...)
}

// Unattended is the Recorder of package-level clients; TestMain reports it
// with Report.
var Unattended = &Recorder{}

// reportTo is where Report prints.
var reportTo io.Writer = os.Stderr

// Report prints what Unattended recorded to stderr and turns a passing exit
// code into a failing one when there was anything: use it in TestMain as
// os.Exit(apitest.Report(m.Run())).
func Report(code int) int {
	f := Unattended.Failures()
	if len(f) == 0 {
		return code
	}
	fmt.Fprintf(reportTo, "FAIL: %d exchanges disagree with the OpenAPI document:\n", len(f))
	for _, s := range f {
		fmt.Fprintln(reportTo, s)
	}
	if code == 0 {
		code = 1
	}
	return code
}
