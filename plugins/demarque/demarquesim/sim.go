package demarquesim

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Test data: see the package doc.
const (
	DefaultOrganisation = "123"
	DefaultUsername     = "library"
	DefaultPassword     = "secret"

	ISBNAvailable = "9789084999813"
	ISBNSecond    = "9782924253069"
	ISBNThird     = "9780306406157"
	// ISBNUnknown has a valid check digit but is not in the catalogue.
	ISBNUnknown = "9782924253083"
)

// DownloadValidity is how long a download link lives (seed: one minute).
const DownloadValidity = time.Minute

// Endpoint names an API endpoint for CallsTo and Request.
type Endpoint string

// The API endpoints.
const (
	EndpointLending  Endpoint = "lending"
	EndpointDownload Endpoint = "download"
)

// Option configures a Sim.
type Option func(*Sim)

// WithOrganisation sets the organisation id the retail API knows.
func WithOrganisation(id string) Option { return func(s *Sim) { s.organisation = id } }

// WithCredentials sets the Basic auth credentials of the retail API.
func WithCredentials(username, password string) Option {
	return func(s *Sim) { s.username, s.password = username, password }
}

// WithClock sets the clock used for loan expiry and download-link expiry
// (fault latency always uses real time).
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.now = now } }

// WithCatalogue replaces the catalogue with isbns.
func WithCatalogue(isbns ...string) Option {
	return func(s *Sim) {
		s.catalogue = make(map[string]bool, len(isbns))
		for _, i := range isbns {
			s.catalogue[i] = true
		}
	}
}

// WithNotifyClient sets the client Return uses (default: a plain
// http.Client with a 10 s timeout).
func WithNotifyClient(c *http.Client) Option { return func(s *Sim) { s.notifyClient = c } }

// WithBaseURL fixes the base of the URLs the simulator answers (default: the
// scheme and Host of each request).
func WithBaseURL(base string) Option {
	return func(s *Sim) { s.baseURL = strings.TrimSuffix(base, "/") }
}

// Sim is the simulated warehouse. Its zero value is not usable: call New.
type Sim struct {
	organisation, username, password string
	now                              func() time.Time
	catalogue                        map[string]bool
	notifyClient                     *http.Client
	baseURL                          string

	mu        sync.Mutex
	faults    Faults
	calls     map[Endpoint]int
	requests  []Request
	loans     map[string]*Loan // by transaction_id
	seq       int
	content   map[string]string   // token → ISBN
	downloads map[string]download // token → link
}

type download struct {
	isbn, format string
	expires      time.Time
}

// Request is one API request as the simulator received it.
type Request struct {
	Endpoint Endpoint
	Method   string
	// Path is the unescaped path.
	Path string
	// Form holds the POST form (lending) or the query (downloads).
	Form url.Values
}

// New returns a simulator with the default test data, changed by opts.
func New(opts ...Option) *Sim {
	s := &Sim{
		organisation: DefaultOrganisation,
		username:     DefaultUsername,
		password:     DefaultPassword,
		now:          time.Now,
		notifyClient: &http.Client{Timeout: 10 * time.Second},
	}
	WithCatalogue(ISBNAvailable, ISBNSecond, ISBNThird)(s)
	for _, o := range opts {
		o(s)
	}
	s.reset()
	return s
}

// LoanURL is the loan_url of publication isbn on a simulator served at
// baseURL.
func (s *Sim) LoanURL(baseURL, isbn string) string {
	return strings.TrimSuffix(baseURL, "/") + "/loans/" + url.PathEscape(isbn)
}

// Reset forgets loans, links, counters, recorded requests and faults.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

func (s *Sim) reset() {
	s.faults = Faults{}
	s.calls = make(map[Endpoint]int)
	s.requests = nil
	s.loans = make(map[string]*Loan)
	s.seq = 0
	s.content = make(map[string]string)
	s.downloads = make(map[string]download)
}

// Calls counts the API requests received (lending and downloads).
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// CallsTo counts the API requests received by one endpoint.
func (s *Sim) CallsTo(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[e]
}

// Requests returns the API requests received, oldest first.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// ServeHTTP routes a request. Routing is by hand rather than by ServeMux
// because ServeMux cleans "//" out of paths, and an empty transaction
// segment must reach the download handler to answer missing_transaction_id.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if seg := segments(r.URL); len(seg) > 0 && (seg[0] == "loans" || seg[0] == "api") {
		s.mu.Lock()
		lose := s.faults.LoseAnswer
		s.mu.Unlock()
		if lose != lostanswer.None {
			lostanswer.Serve(w, r, http.HandlerFunc(s.route), lose)
			return
		}
	}
	s.route(w, r)
}

// route serves a request by its path.
func (s *Sim) route(w http.ResponseWriter, r *http.Request) {
	seg := segments(r.URL)
	switch {
	case len(seg) == 2 && seg[0] == "loans":
		if !allow(w, r, http.MethodPost) {
			return
		}
		if s.api(w, r, EndpointLending) {
			s.answerLate(w, r, func(w http.ResponseWriter) { s.lend(w, r, seg[1]) })
		}
	case len(seg) == 11 && seg[0] == "api" && seg[1] == "organisations" && seg[3] == "customers" &&
		seg[5] == "transactions" && seg[7] == "publications" && seg[9] == "download_links":
		if !allow(w, r, http.MethodGet) {
			return
		}
		if s.api(w, r, EndpointDownload) {
			s.downloadLink(w, r, seg[2], seg[4], seg[6], seg[8], seg[10])
		}
	case len(seg) == 2 && seg[0] == "content":
		if allow(w, r, http.MethodGet) {
			s.serveContent(w, seg[1])
		}
	case len(seg) == 2 && seg[0] == "dl":
		if allow(w, r, http.MethodGet) {
			s.serveDownload(w, seg[1])
		}
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}
}

// api counts and records an API request and applies the faults; false when a
// fault answered it.
func (s *Sim) api(w http.ResponseWriter, r *http.Request, e Endpoint) bool {
	form := cloneValues(r.URL.Query())
	if r.Method == http.MethodPost {
		// A body the simulator cannot parse is treated as an empty form.
		_ = r.ParseForm()
		form = cloneValues(r.PostForm)
	}
	s.mu.Lock()
	s.calls[e]++
	s.requests = append(s.requests, Request{Endpoint: e, Method: r.Method, Path: r.URL.Path, Form: form})
	f := s.faults
	s.mu.Unlock()
	return f.apply(w, r)
}

// base is the scheme and host the simulator's URLs start with.
func (s *Sim) base(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// segments splits the escaped path and unescapes each segment, keeping empty
// ones.
func segments(u *url.URL) []string {
	parts := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, p := range parts {
		if v, err := url.PathUnescape(p); err == nil {
			parts[i] = v
		}
	}
	return parts
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+method)
	return false
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers the simulator's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

// token returns an unguessable link token.
func token() string { return rand.Text() }

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
