package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// The operations, appended to base_url. **Assumed**: CB documents the
// operations by name only; we POST JSON to {base_url}/{operation}.
const (
	opPlaceOrder  = "placeOrder"
	opCheckAccess = "checkAccess"
)

// answer is one HTTP answer from CB, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// post sends body as JSON to {base_url}/{op} with the instance's Basic auth
// credentials (**assumed** authentication) and reads the answer.
func (p *Provider) post(ctx context.Context, inst *instance, op string, body any) (answer, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return answer{}, sdk.Errorf(sdk.CodeProviderError, "encoding %s request: %v", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inst.baseURL+"/"+op, bytes.NewReader(buf))
	if err != nil {
		return answer{}, sdk.Errorf(sdk.CodeProviderError, "building %s request: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(inst.username, inst.password)

	start := time.Now() // wall clock: the duration is only logged
	resp, err := inst.client.Do(req)
	if err != nil {
		e := sdk.TransportError(ctx, err)
		p.logger().Debug("call failed", "instance", inst.name, "op", op, "code", e.Code, "duration", time.Since(start))
		return answer{}, e
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e := sdk.TransportError(ctx, err)
		p.logger().Debug("reading answer failed", "instance", inst.name, "op", op, "status", resp.StatusCode, "code", e.Code)
		return answer{}, e
	}
	p.logger().Debug("call", "instance", inst.name, "op", op, "status", resp.StatusCode, "duration", time.Since(start))
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// order is placeOrder's answer.
type order struct {
	CbOrderReference string `json:"CbOrderReference"`
	EAN              string `json:"EAN"`
	URL              string `json:"URL"`
}

// envelope holds every shape CB answers with: an error message or one of the
// operations' results.
type envelope struct {
	Message *struct {
		MessageType string `json:"MessageType"`
		MessageCode string `json:"MessageCode"`
		MessageText string `json:"MessageText"`
	} `json:"Message"`
	PlaceOrder *order `json:"placeOrder"`
	Access     *struct {
		Accessable string `json:"Accessable"`
	} `json:"Access"`
}

// decode turns an answer into its envelope, or into the unified error it
// means. An EBS message wins whatever the HTTP status (**assumed**: CB does
// not document the statuses of its error answers); without one, any status
// outside 2xx is an error, and so is a 2xx body that is not JSON. secrets
// are removed from any text CB sends back.
func (p *Provider) decode(op string, a answer, secrets ...string) (envelope, *sdk.Error) {
	var env envelope
	jsonErr := json.Unmarshal(a.body, &env)
	if jsonErr == nil && env.Message != nil && env.Message.MessageCode != "" {
		return env, p.ebsError(op, env.Message.MessageCode, scrub(env.Message.MessageText, secrets))
	}
	httpCode := "HTTP " + strconv.Itoa(a.status)
	switch {
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return env, sdk.Errorf(sdk.CodeProviderCredentials, "CB refused the instance's credentials (%s)", httpCode).WithProviderCode(httpCode)
	case a.status == http.StatusTooManyRequests:
		return env, sdk.Errorf(sdk.CodeTryLater, "CB asks to slow down").
			WithProviderCode(httpCode).WithRetryAfter(sdk.RetryAfter(a.header, p.now()))
	case a.status < 200 || a.status > 299:
		return env, sdk.Errorf(sdk.CodeProviderError, "CB answered %s to %s", httpCode, op).WithProviderCode(httpCode)
	case jsonErr != nil:
		return env, sdk.Errorf(sdk.CodeProviderError, "CB's %s answer is not readable JSON", op).WithProviderCode(httpCode)
	}
	return env, nil
}

// parseOrder turns placeOrder's answer into the order, or the error it means.
func (p *Provider) parseOrder(a answer, secrets ...string) (order, error) {
	env, e := p.decode(opPlaceOrder, a, secrets...)
	if e != nil {
		return order{}, e
	}
	o := env.PlaceOrder
	if o == nil || o.CbOrderReference == "" {
		return order{}, sdk.Errorf(sdk.CodeProviderError, "CB's placeOrder answer lacks a CbOrderReference").
			WithProviderCode("HTTP " + strconv.Itoa(a.status))
	}
	if !absoluteURL(o.URL) {
		// The order stands (CB gave its reference): answering an error
		// would invite a second order. The loan is kept without a link,
		// and fulfillment says so.
		p.logger().Warn("CB's placeOrder answer has no usable delivery URL; the loan is kept without a link",
			"cb_order_reference", o.CbOrderReference, "url_bytes", len(o.URL))
		o.URL = ""
	}
	return *o, nil
}

// parseAccess turns checkAccess's answer into access yes or no. EBS-10038
// (user unknown) is no access, not an error.
func (p *Provider) parseAccess(a answer, secrets ...string) (bool, error) {
	env, e := p.decode(opCheckAccess, a, secrets...)
	if e != nil {
		if e.ProviderCode == ebsUserUnknown {
			return false, nil
		}
		return false, e
	}
	if env.Access != nil {
		switch env.Access.Accessable {
		case "Y":
			return true, nil
		case "N":
			return false, nil
		}
	}
	return false, sdk.Errorf(sdk.CodeProviderError, "CB's checkAccess answer has no Accessable Y or N").
		WithProviderCode("HTTP " + strconv.Itoa(a.status))
}

// absoluteURL reports whether s is an absolute http(s) URL: the delivery URL
// goes to the reader as is.
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// scrub removes secrets from text that CB sent back, in case it echoes a
// request field.
func scrub(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return text
}
