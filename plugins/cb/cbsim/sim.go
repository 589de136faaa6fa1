package cbsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// BasePath is where the service is mounted; a connector's base_url is the
// server's URL followed by BasePath.
const BasePath = "/rest/api/v1/DigitalProductRentalService"

// The operations, as they appear in the URL and in CallsTo.
const (
	OpPlaceOrder  = "placeOrder"
	OpCheckAccess = "checkAccess"
)

// The Basic auth credentials a Sim accepts unless WithCredentials says
// otherwise.
const (
	DefaultUsername = "library"
	DefaultPassword = "secret"
)

// DefaultDeliveryBaseURL is where the simulated delivery URLs point. The host
// is reserved (.invalid), so nothing ever resolves it.
const DefaultDeliveryBaseURL = "https://ebook.cbsim.invalid"

// BaseURL returns the base_url setting for a Sim served at serverURL (an
// httptest.Server's URL, say).
func BaseURL(serverURL string) string {
	return strings.TrimSuffix(serverURL, "/") + BasePath
}

// Order is one order the Sim accepted.
type Order struct {
	CbOrderReference string
	OrderReference   string
	EAN              string
	ReadingMethod    string
	Protection       string
	Units            int
	UserID           string
	// AdditionTo is the CbOrderReference this order was an addition to, ""
	// for a first order.
	AdditionTo string
	URL        string
	PlacedAt   time.Time
}

// Faults make the Sim misbehave; the zero value is a well-behaved Sim. See the
// package documentation for the order in which they apply.
type Faults struct {
	// Latency delays every answer.
	Latency time.Duration
	// Status, when non-zero, answers every request with this status (meant
	// for 5xx) and a JSON body that is not an EBS message.
	Status int
	// RetryAfter, when positive, answers 429 with Retry-After in whole
	// seconds (rounded up).
	RetryAfter time.Duration
	// Garbage answers 200 with a body that is not JSON.
	Garbage bool
	// Drop closes the connection without answering.
	Drop bool
	// LoseAnswer lets the Sim carry the request out (place the order,
	// check the access) and then loses its answer as the mode says: the
	// connection cut, a gateway's 502 page, an unreadable 200, a 200 over
	// the plugin's default size cap. The other faults, set with it, come
	// first.
	LoseAnswer lostanswer.Mode
}

// Option configures a Sim.
type Option func(*Sim)

// WithCredentials sets the Basic auth credentials the Sim accepts.
func WithCredentials(username, password string) Option {
	return func(s *Sim) { s.username, s.password = username, password }
}

// WithUser registers a checkAccess (Bookshelf) user with its password.
func WithUser(userID, password string) Option {
	return func(s *Sim) { s.users[userID] = password }
}

// WithGrant gives a user access to an EAN in checkAccess without an order.
func WithGrant(userID, ean string) Option {
	return func(s *Sim) {
		if s.grants[userID] == nil {
			s.grants[userID] = map[string]bool{}
		}
		s.grants[userID][ean] = true
	}
}

// WithTitle adds an available EAN to the catalogue.
func WithTitle(ean string) Option {
	return func(s *Sim) { s.catalogue[ean] = outcome{} }
}

// WithDeliveryBaseURL sets where delivery URLs point (default
// DefaultDeliveryBaseURL).
func WithDeliveryBaseURL(u string) Option {
	return func(s *Sim) { s.deliveryBase = strings.TrimSuffix(u, "/") }
}

// WithClock sets the Sim's clock (default time.Now); it only stamps orders.
func WithClock(now func() time.Time) Option {
	return func(s *Sim) { s.now = now }
}

// Sim is the simulated service. Its zero value is not usable; call New.
type Sim struct {
	// Set by options, kept by Reset.
	username, password string
	users              map[string]string
	grants             map[string]map[string]bool
	catalogue          map[string]outcome
	deliveryBase       string
	now                func() time.Time

	mu      sync.Mutex
	orders  []*Order
	byRef   map[string]*Order // OrderReference → order
	byCb    map[string]*Order // CbOrderReference → order
	nextCb  int
	faults  Faults
	calls   int
	callsTo map[string]int
}

// New returns a Sim with the test catalogue of the package documentation.
func New(opts ...Option) *Sim {
	s := &Sim{
		username:     DefaultUsername,
		password:     DefaultPassword,
		users:        map[string]string{},
		grants:       map[string]map[string]bool{},
		catalogue:    testCatalogue(),
		deliveryBase: DefaultDeliveryBaseURL,
		now:          time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.Reset()
	return s
}

// Reset forgets orders, counters and faults; what options set stays.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = nil
	s.byRef = map[string]*Order{}
	s.byCb = map[string]*Order{}
	s.nextCb = 1669231 // the seed's first CbOrderReference
	s.faults = Faults{}
	s.calls = 0
	s.callsTo = map[string]int{}
}

// SetFaults makes every later request misbehave as f says, until it is
// called again (SetFaults(Faults{}) clears) or Reset.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Calls returns how many requests the Sim received.
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsTo returns how many requests the Sim received for one operation
// (OpPlaceOrder, OpCheckAccess, or for any other path the rest of it after
// BasePath+"/").
func (s *Sim) CallsTo(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsTo[op]
}

// Order returns the order placed with OrderReference ref.
func (s *Sim) Order(ref string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byRef[ref]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// OrderByCb returns the order with CbOrderReference cbRef.
func (s *Sim) OrderByCb(cbRef string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byCb[cbRef]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Orders returns every order, oldest first.
func (s *Sim) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, len(s.orders))
	for i, o := range s.orders {
		out[i] = *o
	}
	return out
}

// ServeHTTP serves placeOrder and checkAccess under BasePath.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	lose := s.faults.LoseAnswer
	s.mu.Unlock()
	if lose != lostanswer.None {
		lostanswer.Serve(w, r, http.HandlerFunc(s.serve), lose)
		return
	}
	s.serve(w, r)
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, BasePath+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.calls++
	s.callsTo[op]++
	f := s.faults
	s.mu.Unlock()

	// Read the whole body first: only then does the server notice a client
	// that goes away, which ends a Latency wait.
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))

	if f.Latency > 0 && !wait(r.Context(), f.Latency) {
		return // the client went away
	}
	if s.fault(w, f) {
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != s.username || pass != s.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="eBoekhuis"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var serve func(http.ResponseWriter, map[string]string)
	switch op {
	case OpPlaceOrder:
		serve = s.placeOrder
	case OpCheckAccess:
		serve = s.checkAccess
	default:
		http.NotFound(w, r)
		return
	}
	fields, ok := decodeFields(body)
	if readErr != nil || !ok {
		writeEBS(w, http.StatusBadRequest, ebsFailure, "The request is not a JSON object.")
		return
	}
	serve(w, fields)
}

// fault answers according to f and reports whether it did.
func (s *Sim) fault(w http.ResponseWriter, f Faults) bool {
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		// HTTP/2 cannot hijack: abort the stream instead.
		panic(http.ErrAbortHandler)
	case f.RetryAfter > 0:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many requests (simulated)"})
		return true
	case f.Status != 0:
		writeJSON(w, f.Status, map[string]string{"error": "simulated failure"})
		return true
	case f.Garbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("\x00\x1f<html>{\"placeOrder\": garbage"))
		return true
	}
	return false
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// decodeFields reads a JSON object whose values are strings or numbers (CB's
// examples send numbers as strings; a number is taken as its text). A value
// of any other type is kept as "\x00" so that the field checks call it
// malformed.
func decodeFields(body []byte) (map[string]string, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, false
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var str string
		var num json.Number
		switch {
		case json.Unmarshal(v, &str) == nil:
			out[k] = str
		case json.Unmarshal(v, &num) == nil:
			out[k] = num.String()
		default:
			out[k] = "\x00"
		}
	}
	return out, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // delivery URLs keep their & as CB's examples do
	enc.Encode(v)
}

type message struct {
	MessageType string `json:"MessageType"`
	MessageCode string `json:"MessageCode"`
	MessageText string `json:"MessageText"`
}

func writeEBS(w http.ResponseWriter, status int, code, text string) {
	writeJSON(w, status, map[string]message{"Message": {MessageType: "E", MessageCode: code, MessageText: text}})
}
