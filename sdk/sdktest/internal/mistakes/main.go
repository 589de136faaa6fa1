// Command mistakes is a small plugin that the conformance kit's own tests
// run as a binary, the way the plugin author's guide runs the kit. Its
// setting "mistake" makes it commit one of the mistakes the kit must catch:
//
//   - plain_error: a failed request answers a plain fmt.Errorf (with the
//     distributor's URL in it) instead of an *sdk.Error;
//   - sleeps: a checkout of the slow item sleeps without watching its
//     context;
//   - noop_return: return is declared but stubbed, never reaching the
//     distributor.
//
// Without it the plugin is well behaved. Its distributor is the small JSON
// API the kit's tests simulate: POST /loans {"item","patron"} → 201
// {"id","link","expires"}; DELETE /loans/{id} → 204; errors {"code","message"}.
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
	mistake string
}

type plugin struct {
	sdk.Unimplemented
	accounts sdk.Instances[*account]
}

func (*plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "mistakes", Version: "1.0.0", Formats: []string{"epub"},
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapReturn}}, nil
}

func (p *plugin) Configure(_ context.Context, instance string, settings map[string]string) error {
	base, err := sdk.BaseURL(settings, "base_url")
	if err != nil {
		return err
	}
	x := &sdk.Exchange{Name: "Tinylend", Client: sdk.HTTPClient(settings), Base: base,
		Errors: sdk.ErrorTable{Codes: map[string]sdk.Code{"NO_COPIES": sdk.CodeNotAvailable, "NO_LOAN": sdk.CodeLoanNotFound}}}
	p.accounts.Set(instance, &account{x: x, mistake: settings["mistake"]})
	return nil
}

func (p *plugin) Health(_ context.Context, instance string) error {
	_, err := p.accounts.Get(instance)
	return err
}

type loanAnswer struct {
	ID      string    `json:"id"`
	Link    string    `json:"link"`
	Expires time.Time `json:"expires"`
}

func (p *plugin) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	a, err := p.accounts.Get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if a.mistake == "sleeps" && r.Item == SlowItem {
		time.Sleep(sleepFor) // the mistake: the call's deadline is not watched
	}
	body := map[string]string{"item": r.Item, "patron": r.Patron}
	var out loanAnswer
	if a.mistake == "plain_error" {
		err = a.postPlain(ctx, body, &out)
	} else {
		err = a.x.JSON(ctx, http.MethodPost, "/loans", body, &out)
	}
	if err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{Format: "epub", ExpiresAt: out.Expires,
		Links:       []sdk.Link{{Format: "epub", Rel: "content", Href: out.Link}},
		ProviderRef: map[string]string{"id": out.ID}}, nil
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

func (p *plugin) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	a, err := p.accounts.Get(r.Instance)
	if err != nil {
		return sdk.Loan{}, err
	}
	if a.mistake == "noop_return" {
		return sdk.Loan{Format: r.Loan.Format}, nil // the mistake: nothing reaches the distributor
	}
	if err := a.x.JSON(ctx, http.MethodDelete, "/loans/"+url.PathEscape(r.Loan.ProviderRef["id"]), nil, nil); err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{Format: r.Loan.Format, ExpiresAt: time.Now()}, nil
}

func main() {
	if err := sdk.Serve(&plugin{}); err != nil {
		log.Fatal(err)
	}
}
