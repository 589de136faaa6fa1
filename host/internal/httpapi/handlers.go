package httpapi

import (
	"context"
	"io"
	"net/http"

	"github.com/lendgate/lendgate/host/api"
)

// The codec of each operation: decode, call the Go method, encode.

func (s *server) providers(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"providers": s.Lender.Providers(r.Context())})
	return nil
}

func (s *server) provider(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Lender.Provider(r.Context(), r.PathValue("provider"))
	return reply(w, p, err)
}

func (s *server) checkout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Lender.Instance(r.PathValue("provider")); err != nil {
		return err
	}
	var req api.CheckoutRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	l, replayed, err := s.Lender.Checkout(r.Context(), r.PathValue("provider"), req)
	// A new loan is 201; a replayed one answers as it did, 200.
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	return replyLoan(w, status, l, replayed, err)
}

func (s *server) patronLoans(w http.ResponseWriter, r *http.Request) error {
	if err := s.Lender.Instance(r.PathValue("provider")); err != nil {
		return err
	}
	q := r.URL.Query()
	patron, status := q.Get("patron"), q.Get("status")
	var loans []api.Loan
	var err error
	switch {
	case patron != "":
		loans, err = s.Lender.PatronLoans(r.Context(), r.PathValue("provider"), patron)
		if status != "" {
			kept := loans[:0]
			for _, l := range loans {
				if l.Status == status {
					kept = append(kept, l)
				}
			}
			loans = kept
		}
	case status != "":
		loans, err = s.Lender.LoansByStatus(r.Context(), r.PathValue("provider"), status)
	default:
		return invalid("query parameter patron or status is required")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"loans": loans})
	return nil
}

func (s *server) loan(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Lender.Loan(r.Context(), r.PathValue("provider"), r.PathValue("loan"))
	if err != nil {
		return err
	}
	return reply(w, bodyOf(l), nil)
}

func (s *server) fulfill(w http.ResponseWriter, r *http.Request) error {
	var req api.FulfillRequest
	// The body is optional here: an empty one asks for every format.
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	f, err := s.Lender.Fulfill(r.Context(), r.PathValue("provider"), r.PathValue("loan"), req)
	return reply(w, f, err)
}

func (s *server) content(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	href, err := s.Lender.ContentLink(r.Context(), r.PathValue("provider"), r.PathValue("loan"), q.Get("format"), q.Get("exp"), q.Get("sig"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", href)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

func (s *server) renew(w http.ResponseWriter, r *http.Request) error {
	var req api.RenewRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	l, replayed, err := s.Lender.Renew(r.Context(), r.PathValue("provider"), r.PathValue("loan"), req)
	return replyLoan(w, http.StatusOK, l, replayed, err)
}

func (s *server) returnLoan(w http.ResponseWriter, r *http.Request) error {
	l, replayed, err := s.Lender.Return(r.Context(), r.PathValue("provider"), r.PathValue("loan"), r.Header.Get("Idempotency-Key"))
	return replyLoan(w, http.StatusOK, l, replayed, err)
}

// providerOp is the codec of an operation that takes a JSON body at a
// provider and answers 200: the provider must exist before the body is
// read, so that an unknown provider answers 404 whatever the body.
func providerOp[Req, Resp any](s *server, op func(ctx context.Context, provider string, r Req) (Resp, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		provider := r.PathValue("provider")
		if err := s.Lender.Instance(provider); err != nil {
			return err
		}
		var req Req
		if err := s.decode(r, &req); err != nil {
			return err
		}
		out, err := op(r.Context(), provider, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *server) notify(w http.ResponseWriter, r *http.Request) error {
	// The plugin gets the distributor's headers, less credentials a proxy
	// in front of the host may have added.
	header := map[string][]string{}
	for k, v := range r.Header {
		switch k {
		case "Authorization", "Proxy-Authorization", "Cookie":
			continue
		}
		header[k] = v
	}
	complete := false // the whole body was read
	read := func() ([]byte, error) {
		if r.ContentLength > maxNotificationBytes {
			return nil, errNotificationTooLarge
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxNotificationBytes+1))
		if err != nil {
			return nil, invalid("reading notification: %v", err)
		}
		complete = len(body) <= maxNotificationBytes
		return body, nil
	}
	err := s.Lender.Notify(r.Context(), r.PathValue("provider"), r.PathValue("token"), r.Method, header, read)
	if err != nil && !complete && r.ProtoMajor < 2 {
		// Answer now and drop the connection: otherwise net/http drains
		// an unread body (up to 256 KiB) before it writes the answer, and
		// a client that announced a body and never sends it holds the
		// connection until it gives up. (HTTP/2 resets the stream alone.)
		w.Header().Set("Connection", "close")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) events(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	page, err := s.Lender.Events(r.Context(), r.URL.Query().Get("after"), limit)
	return reply(w, page, err)
}

// reload swaps a plugin to the binary at its configured path. The body
// may only pin it ({"sha256": …}): a "path" is an unknown field, 400, since
// paths change only through the configuration.
func (s *server) reload(w http.ResponseWriter, r *http.Request) error {
	var req api.ReloadRequest
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	res, err := s.Lender.Reload(ctx, r.PathValue("plugin"), req)
	return reply(w, res, err)
}

func (s *server) webhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.Lender.Webhooks(r.Context())
	return reply(w, map[string]any{"webhooks": ws}, err)
}
