package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// The operations, appended to base_url. **Assumed**: CB documents the
// operations by name only; we POST JSON to {base_url}/{operation}.
const (
	opPlaceOrder  = "placeOrder"
	opCheckAccess = "checkAccess"
)

// instance is one configured CB account: the exchange with its service
// (base URL, Basic auth credentials, outbound client, error table).
type instance struct {
	name string
	x    *sdk.Exchange
}

// newInstance checks an instance's settings and builds the account, talking
// through client: base_url, and username and password for HTTP Basic
// authentication (**assumed**). Errors name the setting, never its value.
func (p *provider) newInstance(name string, settings map[string]string, client *http.Client) (*instance, error) {
	base, err := sdk.BaseURL(settings, settingBaseURL)
	if err != nil {
		return nil, err
	}
	for _, key := range []string{settingUsername, settingPassword} {
		if settings[key] == "" {
			return nil, sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", key)
		}
	}
	password := settings[settingPassword]
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(settings[settingUsername], password)
	auth := req.Header.Get("Authorization")
	return &instance{name: name, x: &sdk.Exchange{
		Name:    "CB",
		Client:  client,
		MaxBody: sdk.MaxBodyBytes(settings),
		Base:    base,
		Header:  http.Header{"Authorization": {auth}},
		Secrets: []string{password, auth},
		Errors:  errorTable,
		Now:     func() time.Time { return p.now() },
	}}, nil
}

// call POSTs body as JSON to {base_url}/{op} and reads the answer: a 2xx
// answer comes back whole; an error answer is the unified error through
// errorTable, a failed transport provider_timeout or provider_error.
// secrets (a patron's password) are removed from every message besides the
// instance's own.
func (p *provider) call(ctx context.Context, in *instance, op string, body any, secrets ...string) (sdk.Answer, error) {
	x := in.exchange(secrets)
	start := time.Now() // wall clock: the duration is only logged
	a, err := x.Do(ctx, sdk.Request{Method: http.MethodPost, Path: op, JSON: body})
	p.logger().Debug("call", "instance", in.name, "op", op, "status", a.Status, "code", sdk.CodeOf(err), "duration", time.Since(start))
	if e := sdk.AsError(err); e != nil {
		return a, p.ebsError(op, e)
	}
	return a, nil
}

// exchange is the instance's exchange, with secrets added to those it
// removes from messages.
func (in *instance) exchange(secrets []string) *sdk.Exchange {
	if len(secrets) == 0 {
		return in.x
	}
	x := *in.x
	x.Secrets = append(slices.Clone(in.x.Secrets), secrets...)
	return &x
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
	Message    *ebsMessage `json:"Message"`
	PlaceOrder *order      `json:"placeOrder"`
	Access     *struct {
		Accessable string `json:"Accessable"`
	} `json:"Access"`
}

// decode reads a 2xx answer into its envelope. An EBS message wins whatever
// the HTTP status (**assumed**: CB does not document the statuses of its
// error answers), so a 2xx that carries one is the error it means, through
// the same table (a definitive refusal: CB read the request and said no);
// a 2xx body that is not JSON is a provider_error whose outcome is unknown
// (CB may have acted).
func (p *provider) decode(in *instance, op string, a sdk.Answer, secrets ...string) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(a.Body, &env); err != nil {
		return env, sdk.Errorf(sdk.CodeProviderError, "CB's %s answer is not readable JSON", op).WithProviderCode(httpCode(a.Status)).
			WithOutcome(sdk.OutcomeUnknown)
	}
	if env.Message != nil && env.Message.MessageCode != "" {
		return env, p.ebsError(op, in.exchange(secrets).Error(a.Status, a.Header, a.Body))
	}
	return env, nil
}

// parseOrder turns placeOrder's answer into the order, or the error it means.
func (p *provider) parseOrder(in *instance, a sdk.Answer) (order, error) {
	env, err := p.decode(in, opPlaceOrder, a)
	if err != nil {
		return order{}, err
	}
	o := env.PlaceOrder
	if o == nil || o.CbOrderReference == "" {
		// CB answered, but not what an order or a refusal looks like: it
		// may have placed the order.
		return order{}, sdk.Errorf(sdk.CodeProviderError, "CB's placeOrder answer lacks a CbOrderReference").
			WithProviderCode(httpCode(a.Status)).WithOutcome(sdk.OutcomeUnknown)
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

// parseAccess turns checkAccess's answer into access yes or no.
func (p *provider) parseAccess(in *instance, a sdk.Answer, secrets ...string) (bool, error) {
	env, err := p.decode(in, opCheckAccess, a, secrets...)
	if err != nil {
		return false, err
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
		WithProviderCode(httpCode(a.Status)).WithOutcome(sdk.OutcomeUnknown)
}

func httpCode(status int) string { return "HTTP " + strconv.Itoa(status) }

// absoluteURL reports whether s is an absolute http(s) URL: the delivery URL
// goes to the reader as is.
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
