package host

import (
	"context"
	"io"
	"net/http"
)

// The HTTP codec of each operation: decode, call the Go method, encode.

func (h *Host) httpProviders(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"providers": h.Providers(r.Context())})
	return nil
}

func (h *Host) httpProvider(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Provider(r.Context(), r.PathValue("provider"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (h *Host) httpCheckout(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.instance(r.PathValue("provider")); err != nil {
		return err
	}
	var req CheckoutRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	l, replayed, err := h.checkout(r.Context(), r.PathValue("provider"), req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, status, l)
	return nil
}

func (h *Host) httpPatronLoans(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.instance(r.PathValue("provider")); err != nil {
		return err
	}
	q := r.URL.Query()
	patron, status := q.Get("patron"), q.Get("status")
	var loans []Loan
	var err error
	switch {
	case patron != "":
		loans, err = h.PatronLoans(r.Context(), r.PathValue("provider"), patron)
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
		loans, err = h.LoansByStatus(r.Context(), r.PathValue("provider"), status)
	default:
		return invalid("query parameter patron or status is required")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"loans": loans})
	return nil
}

func (h *Host) httpLoan(w http.ResponseWriter, r *http.Request) error {
	l, err := h.Loan(r.Context(), r.PathValue("provider"), r.PathValue("loan"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (h *Host) httpFulfill(w http.ResponseWriter, r *http.Request) error {
	var req FulfillRequest
	// The body is optional here: an empty one asks for every format.
	if r.ContentLength != 0 {
		if err := decodeOptional(r, &req); err != nil {
			return err
		}
	}
	f, err := h.Fulfill(r.Context(), r.PathValue("provider"), r.PathValue("loan"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (h *Host) httpContent(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	href, err := h.ContentLink(r.Context(), r.PathValue("provider"), r.PathValue("loan"), q.Get("format"), q.Get("exp"), q.Get("sig"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", href)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

func (h *Host) httpRenew(w http.ResponseWriter, r *http.Request) error {
	var req RenewRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	l, replayed, err := h.renew(r.Context(), r.PathValue("provider"), r.PathValue("loan"), req)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (h *Host) httpReturn(w http.ResponseWriter, r *http.Request) error {
	l, replayed, err := h.returnLoan(r.Context(), r.PathValue("provider"), r.PathValue("loan"), r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// providerOp is the codec of an operation that takes a JSON body at a
// provider and answers 200: the provider must exist before the body is
// read, so that an unknown provider answers 404 whatever the body.
func providerOp[Req, Resp any](h *Host, op func(ctx context.Context, provider string, r Req) (Resp, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		provider := r.PathValue("provider")
		if _, err := h.instance(provider); err != nil {
			return err
		}
		var req Req
		if err := decode(r, &req); err != nil {
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

func (h *Host) httpNotify(w http.ResponseWriter, r *http.Request) error {
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
	err := h.notify(r.Context(), r.PathValue("provider"), r.PathValue("token"), r.Method, header, read)
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

func (h *Host) httpEvents(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	page, err := h.Events(r.Context(), r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// httpReload swaps a plugin to the binary at its configured path. The body
// may only pin it ({"sha256": …}): a "path" is an unknown field, 400, since
// paths change only through the configuration.
func (h *Host) httpReload(w http.ResponseWriter, r *http.Request) error {
	var req ReloadRequest
	if r.ContentLength != 0 {
		if err := decodeOptional(r, &req); err != nil {
			return err
		}
	}
	ctx := r.Context()
	res, err := h.Reload(ctx, r.PathValue("plugin"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// decodeOptional is decode for endpoints whose body may be empty.
func decodeOptional(r *http.Request, v any) error {
	err := decode(r, v)
	if err == errNoBody { // identity: errors.Is would match any invalid_request
		return nil
	}
	return err
}
