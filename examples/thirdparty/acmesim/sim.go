// Package acmesim simulates the Acme Books lending API for the acme plugin's
// tests and for trying the plugin by hand (cmd/acmesim). It is an
// http.Handler that keeps its state in memory, ready for httptest:
//
//	sim := acmesim.New()
//	srv := httptest.NewServer(sim)
//
// # The API
//
// Every /api/ request needs the header "Authorization: Bearer <api key>".
//
//   - POST /api/loans with {"isbn", "reader", "days"} (days 1–28, default
//     14) lends a copy: 201 {"loan_id", "download_url", "expires"}.
//   - GET /api/loans/{loan_id}/link gives a fresh download link for a loan:
//     200 {"download_url", "expires"}.
//   - DELETE /api/loans/{loan_id} returns a loan early: 204, the copy is
//     free again.
//   - GET /files/{token} serves the file a download link points to.
//
// Errors are {"error": CODE, "message": …}:
//
//	401 BAD_KEY           missing or wrong API key
//	400 BAD_REQUEST       no isbn or reader, days out of range, unreadable body
//	404 NOT_IN_CATALOGUE  an ISBN Acme does not sell
//	409 NO_COPIES         every copy is lent
//	409 READER_LIMIT      the reader has ReaderLimit loans already
//	404 NO_SUCH_LOAN      no such loan_id (or returned already)
//	409 NOT_RELEASED      with Retry-After: the title is announced, not out yet
//	429 SLOW_DOWN         with Retry-After (seconds), under the RateLimited fault
//	503 MAINTENANCE       with Retry-After (seconds), under the Maintenance fault
//
// # Test data
//
// APIKey is the key. ISBNAvailable has plenty of copies, ISBNNoCopies none,
// ISBNUnknown (a valid ISBN-13) is not in the catalogue, ISBNNotReleased
// comes out in a day, and the reader ReaderAtLimit is always at the loan
// limit. Lent and Returned tell a test what reached the simulator.
package acmesim

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Test data: see the package doc.
const (
	APIKey        = "acme-test-key"
	ISBNAvailable = "9781861972712"
	ISBNNoCopies  = "9780140449136"
	ISBNUnknown   = "9780000000019"
	// ISBNNotReleased answers NOT_RELEASED with Retry-After: NotReleasedFor.
	ISBNNotReleased = "9780306406157"
	NotReleasedFor  = 24 * time.Hour
	ReaderAtLimit   = "reader-at-limit"
	// ReaderLimit is how many loans a reader may hold.
	ReaderLimit = 50
	// LinkValidity is how long a download link lives.
	LinkValidity = 10 * time.Minute
)

// Faults change every /api/ answer until SetFaults is called again with the
// zero value.
type Faults struct {
	// Latency delays the answer; a client that gives up first gets none.
	Latency time.Duration
	// Maintenance answers 503 MAINTENANCE with Retry-After.
	Maintenance bool
	// RateLimited answers 429 SLOW_DOWN with Retry-After.
	RateLimited bool
	// RetryAfter is the Retry-After of Maintenance and RateLimited, rounded
	// up to seconds.
	RetryAfter time.Duration
	// LoseAnswer carries the request out (a loan is made, a loan is
	// returned) and then loses its answer as the mode says: the connection
	// cut, a gateway's 502 page, an unreadable 2xx, a 2xx over the plugin's
	// default size cap. Maintenance and RateLimited, set with it, come
	// first (and carry nothing out).
	LoseAnswer lostanswer.Mode
}

// Sim is the simulated Acme Books API. Create it with New.
type Sim struct {
	mux *http.ServeMux

	mu      sync.Mutex
	faults  Faults
	copies  map[string]int // by ISBN
	loans   map[string]loan
	readers map[string]int // loans per reader
	files   map[string]string
	seq     int
}

type loan struct {
	isbn, reader string
	returned     bool
}

// New returns a simulator with the test data of the package doc.
func New() *Sim {
	s := &Sim{
		mux:     http.NewServeMux(),
		copies:  map[string]int{ISBNAvailable: 1000, ISBNNoCopies: 0},
		loans:   map[string]loan{},
		readers: map[string]int{ReaderAtLimit: ReaderLimit},
		files:   map[string]string{},
	}
	s.mux.HandleFunc("POST /api/loans", s.api(s.lend))
	s.mux.HandleFunc("GET /api/loans/{id}/link", s.api(s.link))
	s.mux.HandleFunc("DELETE /api/loans/{id}", s.api(s.giveBack))
	s.mux.HandleFunc("GET /files/{token}", s.file)
	return s
}

// SetFaults replaces the faults applied to /api/ requests.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Loans counts the loans made.
func (s *Sim) Loans() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.loans)
}

// Lent reports whether the loan id is a loan the simulator made.
func (s *Sim) Lent(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.loans[id]
	return ok
}

// Returned reports whether the loan id was returned.
func (s *Sim) Returned(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loans[id].returned
}

// ServeHTTP routes a request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// api checks the key and applies the faults before h.
func (s *Sim) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: net/http notices that a client hung up (and
		// cancels r.Context()) only once the body is consumed, and latency
		// must end when the plugin gives up.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
		if err != nil {
			fail(w, http.StatusBadRequest, "BAD_REQUEST", "unreadable body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		f := s.faults
		s.mu.Unlock()
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		if f.Maintenance || f.RateLimited {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
			if f.RateLimited {
				fail(w, http.StatusTooManyRequests, "SLOW_DOWN", "too many requests")
			} else {
				fail(w, http.StatusServiceUnavailable, "MAINTENANCE", "back soon")
			}
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+APIKey)) != 1 {
			fail(w, http.StatusUnauthorized, "BAD_KEY", "missing or wrong API key")
			return
		}
		if f.LoseAnswer != lostanswer.None {
			lostanswer.Serve(w, r, h, f.LoseAnswer)
			return
		}
		h(w, r)
	}
}

func (s *Sim) lend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ISBN   string `json:"isbn"`
		Reader string `json:"reader"`
		Days   int    `json:"days"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", "unreadable JSON body")
		return
	}
	if req.Days == 0 {
		req.Days = 14
	}
	if req.ISBN == "" || req.Reader == "" || req.Days < 1 || req.Days > 28 {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", "isbn and reader are required, days is 1-28")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	copies, sold := s.copies[req.ISBN]
	switch {
	case req.ISBN == ISBNNotReleased:
		w.Header().Set("Retry-After", strconv.Itoa(int(NotReleasedFor.Seconds())))
		fail(w, http.StatusConflict, "NOT_RELEASED", "announced, not out yet")
		return
	case !sold:
		fail(w, http.StatusNotFound, "NOT_IN_CATALOGUE", "Acme does not sell this ISBN")
		return
	case copies == 0:
		fail(w, http.StatusConflict, "NO_COPIES", "every copy is lent")
		return
	case s.readers[req.Reader] >= ReaderLimit:
		fail(w, http.StatusConflict, "READER_LIMIT", "the reader has too many loans")
		return
	}
	s.copies[req.ISBN]--
	s.readers[req.Reader]++
	s.seq++
	id := fmt.Sprintf("AC-%06d", s.seq)
	s.loans[id] = loan{isbn: req.ISBN, reader: req.Reader}
	answer(w, http.StatusCreated, map[string]string{
		"loan_id":      id,
		"download_url": s.newLink(r, req.ISBN),
		"expires":      time.Now().UTC().Add(time.Duration(req.Days) * 24 * time.Hour).Format(time.RFC3339),
	})
}

func (s *Sim) link(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.loans[r.PathValue("id")]
	if !ok || l.returned {
		fail(w, http.StatusNotFound, "NO_SUCH_LOAN", "no such loan")
		return
	}
	answer(w, http.StatusOK, map[string]string{
		"download_url": s.newLink(r, l.isbn),
		"expires":      time.Now().UTC().Add(LinkValidity).Format(time.RFC3339),
	})
}

func (s *Sim) giveBack(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	l, ok := s.loans[id]
	if !ok || l.returned {
		fail(w, http.StatusNotFound, "NO_SUCH_LOAN", "no such loan")
		return
	}
	l.returned = true
	s.loans[id] = l
	s.copies[l.isbn]++
	s.readers[l.reader]--
	w.WriteHeader(http.StatusNoContent)
}

// newLink issues a download link for isbn. s.mu is held.
func (s *Sim) newLink(r *http.Request, isbn string) string {
	token := rand.Text()
	s.files[token] = isbn
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/files/" + token
}

func (s *Sim) file(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	isbn, ok := s.files[r.PathValue("token")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/epub+zip")
	fmt.Fprintf(w, "simulated epub of %s\n", isbn)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, message string) {
	answer(w, status, map[string]string{"error": code, "message": message})
}
