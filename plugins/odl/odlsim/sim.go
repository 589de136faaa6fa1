package odlsim

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Credentials the simulator accepts by default (WithCredentials and
// WithToken change them): HTTP Basic library/secret, or Bearer odl-token.
const (
	DefaultUsername = "library"
	DefaultPassword = "secret"
	DefaultToken    = "odl-token"
)

// DefaultPageSize is how many publications a feed page holds.
const DefaultPageSize = 5

// DefaultLoanLength is a loan's length when the template has no expires
// and the licence sets no length.
const DefaultLoanLength = 21 * 24 * time.Hour

// DefaultRenewPeriod is how far an untemplated renew link (no end)
// extends a loan.
const DefaultRenewPeriod = 7 * 24 * time.Hour

// Media types the simulator serves.
const (
	TypeOPDS             = "application/opds+json"
	TypeInfo             = "application/vnd.odl.info+json"
	TypeLSD              = "application/vnd.readium.license.status.v1.0+json"
	TypeLCPLicense       = "application/vnd.readium.lcp.license.v1.0+json"
	TypeProblem          = "application/problem+json"
	TypeEPUB             = "application/epub+zip"
	TypeAudiobook        = "application/audiobook+json"
	RelBorrow            = "http://opds-spec.org/acquisition/borrow"
	ProtectionLCPProfile = "http://readium.org/lcp/basic-profile"
)

// Endpoint names an API endpoint, for CallsTo, Requests and Faults.
type Endpoint string

// The API endpoints.
const (
	EndpointFeed     Endpoint = "feed"     // GET /feed?page=N
	EndpointInfo     Endpoint = "info"     // GET /licenses/{id}/info
	EndpointCheckout Endpoint = "checkout" // POST /checkout?…
	EndpointStatus   Endpoint = "status"   // GET /loans/{id}/status
	EndpointLicense  Endpoint = "license"  // GET /loans/{id}/license
	EndpointReturn   Endpoint = "return"   // PUT /loans/{id}/return
	EndpointRenew    Endpoint = "renew"    // PUT /loans/{id}/renew (GET: the page for people)
	EndpointRegister Endpoint = "register" // POST /loans/{id}/register
)

// Option configures a Sim.
type Option func(*Sim)

// WithClock sets the clock of loans, licences and dates (fault latency and
// notification backoff use real time).
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.now = now } }

// WithBaseURL fixes the base of every URL the simulator writes (default:
// the scheme and Host of each request).
func WithBaseURL(base string) Option {
	return func(s *Sim) { s.baseURL = strings.TrimSuffix(base, "/") }
}

// WithCredentials sets the HTTP Basic credentials accepted on the feed,
// info documents and checkouts ("" for both: Basic is refused).
func WithCredentials(username, password string) Option {
	return func(s *Sim) { s.username, s.password = username, password }
}

// WithToken sets the Bearer token accepted beside Basic ("": Bearer is
// refused).
func WithToken(token string) Option { return func(s *Sim) { s.token = token } }

// WithPageSize sets how many publications a feed page holds.
func WithPageSize(n int) Option {
	return func(s *Sim) {
		if n > 0 {
			s.pageSize = n
		}
	}
}

// WithUnavailableStatus sets the HTTP status of the checkout/unavailable
// problem (default 403, as the spec says; some servers send 400).
func WithUnavailableStatus(status int) Option { return func(s *Sim) { s.unavailableStatus = status } }

// WithInfoVariant makes License Info Documents look like some servers'
// in the field: "patron" instead of "patron_id" in active loans, and
// "left" and "active" left out when they do not apply (unlimited
// checkouts, no loan running).
func WithInfoVariant() Option { return func(s *Sim) { s.infoVariant = true } }

// WithUntemplatedLinks makes the LSDs' return and renew links plain URLs
// (PUT to them as they are; a renewal then extends by DefaultRenewPeriod).
func WithUntemplatedLinks() Option { return func(s *Sim) { s.untemplated = true } }

// WithArrayRels writes every link's rel as a JSON array, as the specs
// allow.
func WithArrayRels() Option { return func(s *Sim) { s.arrayRels = true } }

// WithReadyLoans makes new loans start "ready" (the patron's app has not
// registered yet); a registration (POST register, or Activate) makes them
// "active" and notifies.
func WithReadyLoans() Option { return func(s *Sim) { s.readyLoans = true } }

// WithoutSelfLinks leaves the self link out of LSDs, as the Readium LCP
// server does: a client finds the LSD through the LCP licence's status
// link.
func WithoutSelfLinks() Option { return func(s *Sim) { s.noSelf = true } }

// WithCatalogue replaces the test catalogue (see Catalogue).
func WithCatalogue(pubs ...Publication) Option {
	return func(s *Sim) { s.initial = append([]Publication(nil), pubs...) }
}

// WithNotifyClient sets the client notifications are POSTed with
// (default: a plain http.Client with a 10 s timeout).
func WithNotifyClient(c *http.Client) Option { return func(s *Sim) { s.notifyClient = c } }

// WithNotifyRetry sets how many times a notification is tried (default 5)
// and the first wait between tries (default 50 ms, doubled each time,
// at most 2 s).
func WithNotifyRetry(attempts int, backoff time.Duration) Option {
	return func(s *Sim) {
		if attempts > 0 {
			s.notifyAttempts = attempts
		}
		if backoff > 0 {
			s.notifyBackoff = backoff
		}
	}
}

// Sim is the simulated ODL distributor. Its zero value is not usable: call
// New, and Close it when done (it stops the notification sender).
type Sim struct {
	now                       func() time.Time
	baseURL                   string
	username, password, token string
	pageSize                  int
	unavailableStatus         int
	infoVariant, untemplated  bool
	arrayRels, readyLoans     bool
	noSelf                    bool
	initial                   []Publication
	notifyClient              *http.Client
	notifyAttempts            int
	notifyBackoff             time.Duration

	mu       sync.Mutex
	faults   Faults
	calls    map[Endpoint]int
	requests []Request
	pubs     []*publication
	byItem   map[string]*publication
	licenses map[string]*license
	loans    map[string]*loan // by LSD id
	byKey    map[string]*loan // by licence id + checkout_id
	changed  chan struct{}    // closed and replaced on every request and change (Wait)

	notifier *notifier
}

// Request is one API request as the simulator received it (never its
// credentials).
type Request struct {
	Endpoint Endpoint
	Method   string
	// Path is the unescaped path.
	Path  string
	Query url.Values
	// Auth is "basic", "bearer" or "" (what kind of credentials came).
	Auth string
}

// New returns a simulator with the test catalogue, changed by opts.
func New(opts ...Option) *Sim {
	s := &Sim{
		now:               time.Now,
		username:          DefaultUsername,
		password:          DefaultPassword,
		token:             DefaultToken,
		pageSize:          DefaultPageSize,
		unavailableStatus: http.StatusForbidden,
		notifyClient:      &http.Client{Timeout: 10 * time.Second},
		notifyAttempts:    5,
		notifyBackoff:     50 * time.Millisecond,
	}
	for _, o := range opts {
		o(s)
	}
	if s.initial == nil {
		s.initial = Catalogue(s.now())
	}
	s.notifier = newNotifier(s.notifyClient, s.notifyAttempts, s.notifyBackoff, s.signal)
	s.reset()
	return s
}

// Close stops sending notifications: those queued or being retried are
// dropped. The simulator keeps serving requests.
func (s *Sim) Close() { s.notifier.close() }

// FeedURL is the feed of a simulator served at baseURL.
func (s *Sim) FeedURL(baseURL string) string { return strings.TrimSuffix(baseURL, "/") + "/feed" }

// Reset forgets loans, counters, recorded requests and faults, and puts
// the catalogue back as New made it.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

func (s *Sim) reset() {
	s.faults = Faults{}
	s.calls = make(map[Endpoint]int)
	s.requests = nil
	s.pubs = nil
	s.byItem = make(map[string]*publication)
	s.licenses = make(map[string]*license)
	s.loans = make(map[string]*loan)
	s.byKey = make(map[string]*loan)
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	for _, p := range s.initial {
		s.addPublication(p)
	}
}

// Calls counts the API requests received.
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// CallsTo counts the API requests one endpoint received.
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
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

// ServeHTTP routes a request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	seg := segments(r.URL)
	switch {
	case len(seg) == 1 && seg[0] == "feed":
		s.route(w, r, EndpointFeed, http.MethodGet, true, s.feed)
	case len(seg) == 3 && seg[0] == "licenses" && seg[2] == "info":
		s.route(w, r, EndpointInfo, http.MethodGet, true, func(w http.ResponseWriter, r *http.Request) { s.info(w, r, seg[1]) })
	case len(seg) == 1 && seg[0] == "checkout":
		s.route(w, r, EndpointCheckout, http.MethodPost, true, s.checkout)
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "status":
		s.route(w, r, EndpointStatus, http.MethodGet, false, func(w http.ResponseWriter, r *http.Request) { s.status(w, r, seg[1]) })
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "license":
		s.route(w, r, EndpointLicense, http.MethodGet, false, func(w http.ResponseWriter, r *http.Request) { s.licenseDocument(w, r, seg[1]) })
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "return":
		s.route(w, r, EndpointReturn, http.MethodPut, false, func(w http.ResponseWriter, r *http.Request) { s.returnLoan(w, r, seg[1]) })
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "renew" && r.Method == http.MethodGet:
		s.renewPage(w, seg[1])
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "renew":
		s.route(w, r, EndpointRenew, http.MethodPut, false, func(w http.ResponseWriter, r *http.Request) { s.renew(w, r, seg[1]) })
	case len(seg) == 3 && seg[0] == "loans" && seg[2] == "register":
		s.route(w, r, EndpointRegister, http.MethodPost, false, func(w http.ResponseWriter, r *http.Request) { s.register(w, r, seg[1]) })
	case len(seg) == 3 && seg[0] == "publications" && (seg[2] == "content" || seg[2] == "manifest.json"):
		if allow(w, r, http.MethodGet) {
			s.content(w, seg[1], seg[2])
		}
	default:
		writeProblem(w, http.StatusNotFound, TypeGeneric, "Not found", "no such endpoint")
	}
}

// route checks the method and, for endpoints that need it, the
// credentials; counts and records the request; applies the faults; and
// runs handle.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, e Endpoint, method string, auth bool, handle http.HandlerFunc) {
	if !allow(w, r, method) {
		return
	}
	kind := authKind(r)
	s.mu.Lock()
	s.calls[e]++
	s.requests = append(s.requests, Request{Endpoint: e, Method: r.Method, Path: r.URL.Path, Query: cloneValues(r.URL.Query()), Auth: kind})
	f := s.faultFor(e)
	s.signalLocked()
	s.mu.Unlock()
	if !f.before(w, r) {
		return
	}
	if auth && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="odlsim", Bearer`)
		writeProblem(w, http.StatusUnauthorized, TypeGeneric, "Unauthorized", "missing or wrong credentials")
		return
	}
	f.after(w, r, handle)
}

// authKind names the kind of credentials r carries.
func authKind(r *http.Request) string {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Basic "):
		return "basic"
	case strings.HasPrefix(h, "Bearer "):
		return "bearer"
	}
	return ""
}

// authorized reports whether r carries the Basic credentials or the
// Bearer token the simulator accepts.
func (s *Sim) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return s.username != "" && u == s.username && p == s.password
	}
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return s.token != "" && tok == s.token
	}
	return false
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

// signal wakes every Wait.
func (s *Sim) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signalLocked()
}

func (s *Sim) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// segments splits the escaped path and unescapes each segment.
func segments(u *url.URL) []string {
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
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
	writeProblem(w, http.StatusMethodNotAllowed, TypeGeneric, "Method not allowed", "use "+method)
	return false
}

// writeJSON answers v as JSON of media type ct with status.
func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// problem is an RFC 7807 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, typ, title, detail string) {
	writeJSON(w, status, TypeProblem, problem{Type: typ, Title: title, Status: status, Detail: detail})
}

// token returns an unguessable id.
func token() string { return strings.ToLower(rand.Text()) }

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
