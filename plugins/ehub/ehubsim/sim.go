// Package ehubsim simulates the Axiell eHUB provider API for tests, benchmarks
// and the sandbox: an in-memory http.Handler, ready for httptest, that
// implements the documented checkout answer and every documented error, and
// takes fault injection. Nothing here talks to a real distributor.
//
// Endpoints (all require "Authorization: Bearer <api key>", default
// DefaultAPIKey, else 401 {"code":"UNAUTHORIZED"}; and the patron's identity
// in the X-Patron-Id header, else 400 INVALID_PATRON):
//
//	POST   /v1/checkouts       {"recordId","formatId"?} → 201 checkout answer
//	GET    /v1/checkouts/{id}  → 200 the same answer (the assumed fulfillment call)
//	DELETE /v1/checkouts/{id}  → 204 (for tests only; not offered to libraries)
//
// The checkout answer is the seed's shape:
//
//	{"id","formatMetadata":{"<format>":{"contentLinks":[{"href"}],"supplementLinks":[{"name","href"}]}},"expirationDate"}
//
// with expirationDate = now + loan days (WithLoanDays, default 21; now from
// WithClock). A checkout with a formatId answers only that format.
//
// Catalogue (record ids):
//
//	recordId_0             (RecordMultiFormat)   ebook, audio-stream, audio-downloadable, as in the seed, malformed hrefs included
//	record-ebook           (RecordEbook)         one ebook format, well-formed links
//	record-video           (RecordUnknownFormat) ebook and the unknown format "video-stream"
//	record-malformed-link  (RecordMalformedLink) ebook whose content href is MalformedHref
//
// Error triggers:
//
//	any other record id, e.g. record-unknown  404 INVALID_CONTENT_PROVIDER_RECORD_ID
//	record-inactive                           409 PRODUCT_INACTIVE
//	record-unavailable                        409 PRODUCT_UNAVAILABLE
//	record-borrower-limit                     409 BORROWER_LIMIT_REACHED
//	record-library-limit                      409 LIBRARY_LIMIT_REACHED
//	record-max-downloads                      409 MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED
//	record-create-loan-failed                 500 CREATE_LOAN_FAILED
//	record-something-new                      422 SOMETHING_NEW (unknown to every table)
//	record-missing-content                    409 MISSING_CONTENT_IN_LOAN
//	record-invalid-region                     400 INVALID_REGION_ID
//	formatId the record does not offer        400 INVALID_FORMAT_ID
//	same record, same patron, loan active     409 ALREADY_ON_LOAN
//	X-Patron-Id missing                       400 INVALID_PATRON
//	X-Patron-Id blocked (default "blocked")   403 INVALID_PATRON
//	GET/DELETE of a malformed checkout id     400 INVALID_LOAN_ID (ids are [A-Za-z0-9_-], ≤ 64)
//	GET/DELETE of an unknown id, or another
//	  patron's checkout                       404 CHECKOUT_NOT_FOUND
//	GET of an expired checkout                410 INACTIVE_LOAN
//
// The HTTP statuses of error answers are this simulator's choice: the seed
// names only the codes.
package ehubsim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// DefaultAPIKey is the api key the simulator accepts unless WithAPIKey says
// otherwise.
const DefaultAPIKey = "ehub-key"

// DefaultLoanDays is the loan period unless WithLoanDays says otherwise.
const DefaultLoanDays = 21

// maxBody caps a request body: a checkout request is a few dozen bytes.
const maxBody = 64 << 10

// BlockedPatron is on the default blocked list: its checkouts answer
// INVALID_PATRON.
const BlockedPatron = "blocked"

// PatronHeader carries the patron's identity (assumed; the seed is silent).
const PatronHeader = "X-Patron-Id"

// Checkout is one loan the simulator holds.
type Checkout struct {
	ID       string
	RecordID string
	Patron   string
	// FormatID is the format asked for at checkout ("" for all of the
	// record's formats).
	FormatID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Option configures a Sim.
type Option func(*Sim)

// WithAPIKey sets the api key the simulator accepts as a Bearer token.
func WithAPIKey(key string) Option { return func(s *Sim) { s.apiKey = key } }

// WithLoanDays sets the loan period of new checkouts.
func WithLoanDays(days int) Option { return func(s *Sim) { s.loanDays = days } }

// WithClock replaces time.Now, so tests can move time (expiry, INACTIVE_LOAN)
// without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.now = now } }

// WithBlockedPatrons replaces the blocked list (default: BlockedPatron).
func WithBlockedPatrons(ids ...string) Option {
	return func(s *Sim) {
		s.blocked = make(map[string]bool, len(ids))
		for _, id := range ids {
			s.blocked[id] = true
		}
	}
}

// Sim is the simulated eHUB provider API. It is safe for concurrent use.
type Sim struct {
	apiKey   string
	loanDays int
	now      func() time.Time
	blocked  map[string]bool
	records  map[string]record
	mux      *http.ServeMux

	mu        sync.Mutex
	checkouts map[string]*Checkout
	seq       int
	faults    Faults
	calls     int
	opCalls   map[Op]int
}

// New returns a simulator with the built-in catalogue and no checkouts.
func New(opts ...Option) *Sim {
	s := &Sim{
		apiKey:    DefaultAPIKey,
		loanDays:  DefaultLoanDays,
		now:       time.Now,
		blocked:   map[string]bool{BlockedPatron: true},
		records:   catalogue(),
		checkouts: map[string]*Checkout{},
		opCalls:   map[Op]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/checkouts", s.operation(OpCheckout, s.create))
	s.mux.HandleFunc("GET /v1/checkouts/{id}", s.operation(OpGet, s.get))
	s.mux.HandleFunc("DELETE /v1/checkouts/{id}", s.operation(OpDelete, s.delete))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such endpoint"})
	})
	return s
}

// ServeHTTP counts the call, applies the injected faults, then routes.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	f := s.faults
	s.mu.Unlock()
	if f.apply(w, r) {
		return
	}
	if f.LoseAnswer != lostanswer.None {
		lostanswer.Serve(w, r, s.mux, f.LoseAnswer)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handler is one endpoint once the caller and patron are known.
type handler func(w http.ResponseWriter, r *http.Request, patron string)

// operation wraps an endpoint with its counter, the api key check and the
// patron check, which every endpoint shares.
func (s *Sim) operation(op Op, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.opCalls[op]++
		s.mu.Unlock()
		if !s.authorized(r) {
			writeError(w, &apiError{status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "missing or wrong api key"})
			return
		}
		patron := r.Header.Get(PatronHeader)
		if patron == "" {
			writeError(w, &apiError{status: http.StatusBadRequest, Code: "INVALID_PATRON", Message: "the patron is missing"})
			return
		}
		if s.blocked[patron] {
			writeError(w, &apiError{status: http.StatusForbidden, Code: "INVALID_PATRON", Message: "the patron may not borrow"})
			return
		}
		h(w, r, patron)
	}
}

func (s *Sim) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h[len(prefix):]), []byte(s.apiKey)) == 1
}

type checkoutBody struct {
	RecordID string `json:"recordId"`
	FormatID string `json:"formatId"`
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request, patron string) {
	var in checkoutBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&in); err != nil {
		writeError(w, &apiError{status: http.StatusBadRequest, Code: "INVALID_REQUEST", Message: "the body is not a checkout request"})
		return
	}
	rec, ok := s.records[in.RecordID]
	if !ok {
		writeError(w, &apiError{status: http.StatusNotFound, Code: "INVALID_CONTENT_PROVIDER_RECORD_ID", Message: "no such record"})
		return
	}
	if rec.fail != nil {
		writeError(w, rec.fail)
		return
	}
	if _, ok := rec.formats[in.FormatID]; in.FormatID != "" && !ok {
		writeError(w, &apiError{status: http.StatusBadRequest, Code: "INVALID_FORMAT_ID", Message: "the record is not offered in this format"})
		return
	}

	s.mu.Lock()
	now := s.now().UTC()
	for _, c := range s.checkouts {
		if c.RecordID == in.RecordID && c.Patron == patron && now.Before(c.ExpiresAt) {
			s.mu.Unlock()
			writeError(w, &apiError{status: http.StatusConflict, Code: "ALREADY_ON_LOAN", Message: "the patron already has this record on loan"})
			return
		}
	}
	s.seq++
	c := &Checkout{
		ID:        "checkout-" + strconv.Itoa(s.seq),
		RecordID:  in.RecordID,
		Patron:    patron,
		FormatID:  in.FormatID,
		CreatedAt: now,
		ExpiresAt: now.AddDate(0, 0, s.loanDays),
	}
	s.checkouts[c.ID] = c
	out := s.answer(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// validID is what the simulator's checkout ids look like; anything else is
// INVALID_LOAN_ID.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// lookup finds the caller's checkout, or writes the error and returns nil.
// The caller holds s.mu.
func (s *Sim) lookup(w http.ResponseWriter, id, patron string) *Checkout {
	if !validID.MatchString(id) {
		writeError(w, &apiError{status: http.StatusBadRequest, Code: "INVALID_LOAN_ID", Message: "malformed checkout id"})
		return nil
	}
	c, ok := s.checkouts[id]
	if !ok || c.Patron != patron {
		// Another patron's checkout is reported as absent, not forbidden, so
		// that ids cannot be probed.
		writeError(w, &apiError{status: http.StatusNotFound, Code: "CHECKOUT_NOT_FOUND", Message: "no such checkout"})
		return nil
	}
	return c
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request, patron string) {
	s.mu.Lock()
	c := s.lookup(w, r.PathValue("id"), patron)
	if c == nil {
		s.mu.Unlock()
		return
	}
	if !s.now().Before(c.ExpiresAt) {
		s.mu.Unlock()
		writeError(w, &apiError{status: http.StatusGone, Code: "INACTIVE_LOAN", Message: "the loan has expired"})
		return
	}
	out := s.answer(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) delete(w http.ResponseWriter, r *http.Request, patron string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r.PathValue("id"), patron)
	if c == nil {
		return
	}
	delete(s.checkouts, c.ID)
	w.WriteHeader(http.StatusNoContent)
}

type answerBody struct {
	ID             string                    `json:"id"`
	FormatMetadata map[string]formatMetadata `json:"formatMetadata"`
	ExpirationDate string                    `json:"expirationDate"`
}

// answer renders c in the seed's shape.
func (s *Sim) answer(c *Checkout) answerBody {
	formats := s.records[c.RecordID].formats
	if c.FormatID != "" {
		formats = map[string]formatMetadata{c.FormatID: formats[c.FormatID]}
	}
	return answerBody{ID: c.ID, FormatMetadata: formats, ExpirationDate: c.ExpiresAt.Format(time.RFC3339)}
}

// Checkouts returns a snapshot of the checkouts held, ordered by id.
func (s *Sim) Checkouts() []Checkout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Checkout, 0, len(s.checkouts))
	for _, c := range s.checkouts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the checkout with this id.
func (s *Sim) Lookup(id string) (Checkout, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.checkouts[id]
	if !ok {
		return Checkout{}, false
	}
	return *c, true
}

// Reset forgets every checkout, clears the faults and zeroes the counters.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkouts = map[string]*Checkout{}
	s.seq = 0
	s.faults = Faults{}
	s.calls = 0
	s.opCalls = map[Op]int{}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

var _ http.Handler = (*Sim)(nil)
