// Command mistakes is a small plugin that the conformance kit's own tests
// run as a binary, the way the plugin author's guide runs the kit. Its
// setting "mistake" makes it commit one of the mistakes the kit must catch:
//
//   - plain_error: a failed request answers a plain fmt.Errorf (with the
//     distributor's URL in it) instead of an *sdk.Error;
//   - sleeps: a checkout of the slow item sleeps without watching its
//     context;
//   - noop_return: return is declared but stubbed, never reaching the
//     distributor;
//   - false_dedupe: Describe declares DedupesCheckout, though Tinylend
//     places a second loan for a repeated reference (Describe comes before
//     any setting: this one is built in, with -ldflags "-X
//     main.dedupes=true");
//   - leaks_key: an error message carries the instance's API key;
//   - unlocked_state: per-instance state in a package-level map, changed
//     in place on a reconfiguration while other calls read it, without a
//     lock;
//   - request_scoped_429: every try_later, a 429 included, pauses only its
//     request;
//   - zero_expiry, epoch_expiry: a loan without its expiry (the zero
//     time), or with a Unix time in seconds read as milliseconds (a date
//     in 1970);
//   - unmapped_limit: Tinylend's PATRON_LIMIT is missing from the error
//     table, so it answers provider_error;
//   - panics: Fulfill writes to a nil map;
//   - claims_definitive: every provider_error says its outcome is
//     definitive, even a cut connection's. (A timeout's answer races the
//     host's own at the deadline, so it is left alone: the kit's run stays
//     the same from one run to the next.)
//
// Without it the plugin is well behaved. Its distributor is the small JSON
// API the kit's tests simulate (binary_test.go), with the header
// "X-Api-Key": POST /loans {"item","patron","ref","days"} → 201
// {"id","link","expires"}; GET /loans/{id} → {"link","expires"}; DELETE
// /loans/{id} → 204; errors {"code","message"}.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// SlowItem is the item whose checkout the "sleeps" mistake sleeps over.
const SlowItem = "slow"

// sleepFor is how long the "sleeps" mistake sleeps: well past the kit's
// deadline and slack.
const sleepFor = 5 * time.Second

type account struct {
	x       *sdk.Exchange
	key     string
	mistake string
}

type plugin struct {
	sdk.Unimplemented
	accounts sdk.Instances[*account]
}

// dedupes is "true" in the build of the "false_dedupe" mistake.
var dedupes = "false"

// unlocked is the "unlocked_state" mistake: per-instance state outside
// sdk.Instances, without a lock.
var unlocked = map[string]*account{}

func (*plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "mistakes", Version: "1.0.0", Formats: []string{sdk.FormatEPUB},
		Capabilities:    []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapReturn},
		Secrets:         []string{"api_key"},
		DedupesCheckout: dedupes == "true"}, nil
}

// tinyErrors is Tinylend's error table.
func tinyErrors(mistake string) sdk.ErrorTable {
	codes := map[string]sdk.Code{"NO_COPIES": sdk.CodeNotAvailable, "NO_LOAN": sdk.CodeLoanNotFound, "PATRON_LIMIT": sdk.CodeLimitReached}
	if mistake == "unmapped_limit" {
		delete(codes, "PATRON_LIMIT")
	}
	return sdk.ErrorTable{Codes: codes}
}

func (p *plugin) Configure(_ context.Context, instance string, settings map[string]string) error {
	base, err := sdk.BaseURL(settings, "base_url")
	if err != nil {
		return err
	}
	key := settings["api_key"]
	if key == "" {
		return sdk.Errorf(sdk.CodeInvalidRequest, "setting %q is required", "api_key")
	}
	m := settings["mistake"]
	x := &sdk.Exchange{Name: "Tinylend", Client: sdk.HTTPClient(settings), Base: base, Header: http.Header{"X-Api-Key": {key}},
		Secrets: []string{key}, Errors: tinyErrors(m)}
	a := &account{x: x, key: key, mistake: m}
	if m == "unlocked_state" {
		if old, ok := unlocked[instance]; ok {
			*old = *a // the mistake: changed in place while calls read it
		} else {
			unlocked[instance] = a
		}
	}
	p.accounts.Set(instance, a)
	return nil
}

// get is the instance's account.
func (p *plugin) get(instance string) (*account, error) {
	a, err := p.accounts.Get(instance)
	if err != nil {
		return nil, err
	}
	if a.mistake == "unlocked_state" {
		return unlocked[instance], nil
	}
	return a, nil
}

func (p *plugin) Health(_ context.Context, instance string) error {
	_, err := p.get(instance)
	return err
}

type loanAnswer struct {
	ID      string    `json:"id"`
	Link    string    `json:"link"`
	Expires time.Time `json:"expires"`
}

func (p *plugin) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	a, err := p.get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if a.mistake == "sleeps" && r.Item == SlowItem {
		time.Sleep(sleepFor) // the mistake: the call's deadline is not watched
	}
	body := map[string]any{"item": r.Item, "patron": r.Patron, "ref": r.LoanID, "days": r.Days}
	var out loanAnswer
	if a.mistake == "plain_error" {
		err = a.postPlain(ctx, body, &out)
	} else {
		err = a.x.JSON(ctx, http.MethodPost, "/loans", body, &out)
	}
	if err != nil {
		return sdk.Loan{}, a.failed(err)
	}
	expires := out.Expires
	switch a.mistake {
	case "zero_expiry":
		expires = time.Time{}
	case "epoch_expiry":
		expires = time.UnixMilli(out.Expires.Unix()) // the mistake: seconds read as milliseconds
	}
	return sdk.Loan{Format: sdk.FormatEPUB, ExpiresAt: expires,
		Links:       []sdk.Link{{Format: sdk.FormatEPUB, Rel: sdk.RelContent, Href: out.Link, Type: sdk.MediaTypeEPUB}},
		ProviderRef: map[string]string{"id": out.ID}}, nil
}

// failed is how an error leaves the plugin, with the mistakes that change
// it.
func (a *account) failed(err error) error {
	e := sdk.AsError(err)
	switch a.mistake {
	case "leaks_key":
		e.Message += fmt.Sprintf(" (account key %s)", a.key) // the mistake
	case "request_scoped_429":
		if e.Code == sdk.CodeTryLater {
			e.ForRequest() // the mistake: a 429 is about every caller
		}
	case "claims_definitive":
		if e.Code == sdk.CodeProviderError {
			e.WithOutcome(sdk.OutcomeDefinitive) // the mistake: a lost answer is not one
		}
	case "plain_error":
		return err
	}
	return e
}

// postPlain is the "plain_error" mistake: the request made by hand, and an
// http.Client's error (which names the URL) passed on as it is. Answers are
// still read through the Exchange.
func (a *account) postPlain(ctx context.Context, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.x.Base.JoinPath("loans").String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", a.key)
	resp, err := a.x.Client.Do(req)
	if err != nil {
		return fmt.Errorf("tinylend: %w", err) // the mistake
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("tinylend: reading the answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		return a.x.Error(resp.StatusCode, resp.Header, raw)
	}
	return a.x.Decode(sdk.Answer{Status: resp.StatusCode, Body: raw}, out)
}

func (p *plugin) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	a, err := p.get(r.Instance)
	if err != nil {
		return sdk.Fulfillment{}, err
	}
	var out loanAnswer
	if err := a.x.JSON(ctx, http.MethodGet, "/loans/"+url.PathEscape(r.Loan.ProviderRef["id"]), nil, &out); err != nil {
		return sdk.Fulfillment{}, a.failed(err)
	}
	links := []sdk.Link{{Format: sdk.FormatEPUB, Rel: sdk.RelContent, Href: out.Link, Type: sdk.MediaTypeEPUB}}
	if a.mistake == "panics" {
		var seen map[string]bool
		seen[out.Link] = true // the mistake: a nil map
	}
	return sdk.Fulfillment{Links: links}, nil
}

func (p *plugin) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	a, err := p.get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if a.mistake == "noop_return" {
		return sdk.Loan{Format: r.Loan.Format}, nil // the mistake: nothing reaches the distributor
	}
	if err := a.x.JSON(ctx, http.MethodDelete, "/loans/"+url.PathEscape(r.Loan.ProviderRef["id"]), nil, nil); err != nil {
		return sdk.Loan{}, a.failed(err)
	}
	return sdk.Loan{Format: r.Loan.Format}, nil
}

func main() {
	if err := sdk.Serve(&plugin{}); err != nil {
		log.Fatal(err)
	}
}
