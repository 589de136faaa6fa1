// Package lostanswer lets a distributor's simulator act on a request and
// then lose its answer, the faults that make a call's outcome unknown
// (api.md §7): the connection cut after the distributor acted, a gateway's
// 502 page in place of the answer, a 2xx whose body cannot be read, a 2xx
// over the plugin's size cap. A connector's tests use it to check that such
// an answer is reported with sdk.OutcomeUnknown and never as a refusal,
// and the host's tests that a retry then orders nothing twice.
//
// It depends on net/http alone, so that a simulator can import it without
// the SDK:
//
//	func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		if m := s.faults().LoseAnswer; m != lostanswer.None {
//			lostanswer.Serve(w, r, http.HandlerFunc(s.serve), m)
//			return
//		}
//		s.serve(w, r)
//	}
package lostanswer

import (
	"bytes"
	"net/http"
	"net/http/httptest"
)

// Mode is how an answer is lost after the simulator acted on the request.
type Mode int

// The ways an answer is lost.
const (
	// None delivers the answer as the simulator made it.
	None Mode = iota
	// Cut closes the connection without a byte of the answer (an HTTP/2
	// stream is reset).
	Cut
	// Gateway answers 502 with a gateway's HTML page, as a proxy in front
	// of the distributor does when the distributor's answer did not reach
	// it: no distributor error code in it.
	Gateway
	// Unreadable answers the simulator's 2xx status (200 if it had none
	// with a body) with the first half of its body and a NUL byte: not
	// JSON, not the answer.
	Unreadable
	// Oversize answers the simulator's 2xx status (200 if it had none
	// with a body) with its whole answer padded with spaces to
	// OversizeBytes: valid JSON, over the SDK's default size cap.
	Oversize
)

// Modes lists every Mode that loses an answer, for table tests.
var Modes = []Mode{Cut, Gateway, Unreadable, Oversize}

// OversizeBytes is the length of an Oversize answer: one byte past the
// SDK's default cap on a distributor's answer (sdk.DefaultMaxBodyBytes).
const OversizeBytes = 4<<20 + 1

// GatewayPage is the body of a Gateway answer.
const GatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// String names m as tests and docs do.
func (m Mode) String() string {
	switch m {
	case None:
		return "none"
	case Cut:
		return "cut"
	case Gateway:
		return "gateway_502"
	case Unreadable:
		return "unreadable_2xx"
	case Oversize:
		return "oversize_2xx"
	}
	return "unknown"
}

// Serve runs h on r with its answer recorded, so that whatever the request
// does at the simulator is done, and then answers w as m says (None: the
// recorded answer as it was). h must not hijack the connection.
func Serve(w http.ResponseWriter, r *http.Request, h http.Handler, m Mode) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if r.Context().Err() != nil {
		return // the client is gone: there is nobody to answer
	}
	status, body := rec.Code, rec.Body.Bytes()
	copyHeader := func() {
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
	}
	switch m {
	case Cut:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// Not hijackable (HTTP/2): aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	case Gateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(GatewayPage))
	case Unreadable:
		copyHeader()
		w.WriteHeader(bodyStatus(status))
		_, _ = w.Write(append(bytes.Clone(body[:len(body)/2]), 0))
	case Oversize:
		copyHeader()
		w.WriteHeader(bodyStatus(status))
		_, _ = w.Write(body)
		pad := bytes.Repeat([]byte(" "), 64<<10)
		for left := OversizeBytes - len(body); left > 0; left -= len(pad) {
			_, _ = w.Write(pad[:min(left, len(pad))])
		}
	default:
		copyHeader()
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// Handler wraps h so that each request's answer is lost as mode says,
// asked at each request (a mode of None passes the request straight to h).
func Handler(h http.Handler, mode func(*http.Request) Mode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := mode(r)
		if m == None {
			h.ServeHTTP(w, r)
			return
		}
		Serve(w, r, h, m)
	})
}

// bodyStatus is the 2xx status an answer with a body goes out with: the
// simulator's own, unless it had none with a body (204, or an error).
func bodyStatus(status int) int {
	if status < 200 || status > 299 || status == http.StatusNoContent || status == http.StatusResetContent {
		return http.StatusOK
	}
	return status
}
