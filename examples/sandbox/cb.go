package main

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Amsterdam, wherever the sandbox runs

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// The CB instances of the walk-through: one lends under pseudonyms, one
// knows Bookshelf users by their own id (access checks).
const (
	cbLend      = "cb"
	cbBookshelf = "cb-bookshelf"

	cbReader         = "reader-7"
	cbReaderPassword = "reader-password"
)

func cb() *distributor {
	sim := cbsim.New(cbsim.WithUser(cbReader, cbReaderPassword), cbsim.WithGrant(cbReader, cbsim.EANAvailable2))
	return &distributor{
		name: "Centraal Boekhuis eBoekhuis", plugin: "cb", sim: sim,
		providers: func(simURL string) map[string]host.ProviderConfig {
			instance := func(sendPatronID bool) host.ProviderConfig {
				return host.ProviderConfig{
					Plugin: "cb",
					Settings: map[string]string{"base_url": cbsim.BaseURL(simURL),
						"username": cbsim.DefaultUsername, "password": cbsim.DefaultPassword},
					Defaults:          host.Defaults{Format: "epub", Days: 21},
					SendPatronID:      sendPatronID,
					AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
				}
			}
			return map[string]host.ProviderConfig{cbLend: instance(false), cbBookshelf: instance(true)}
		},
		walk: func(ctx context.Context, w *walker, d *distributor) { walkCB(ctx, w, sim) },
	}
}

func walkCB(ctx context.Context, w *walker, sim *cbsim.Sim) {
	loans := "/v1/providers/" + cbLend + "/loans"
	order := func(ean string, opts map[string]string) map[string]any {
		b := map[string]any{"item": ean, "patron": "patron-42"}
		if opts != nil {
			b["options"] = opts
		}
		return b
	}
	r := w.step(ctx, "checkout (D, Adobe DRM)", req{method: "POST", path: loans,
		body: order(cbsim.EANAvailable, map[string]string{"reading_method": "D", "protection": "03"})}, want{status: 201})
	var loan host.Loan
	r.decode(&loan)
	first, ok := sim.Order(loan.ID)
	w.check("CB saw a pseudonym as UserId", ok && first.UserID != "patron-42" && len(first.UserID) == 32, "UserId "+first.UserID)

	r = w.step(ctx, "fulfillment (the order's URL)", req{method: "POST", path: loanPath(cbLend, loan.ID) + "/fulfillment"}, want{status: 200})
	var f host.Fulfillment
	r.decode(&f)
	if u, err := url.Parse(f.Redirect); err == nil {
		r = w.step(ctx, "browser redirect (signed, no API key)", req{method: "GET", path: u.RequestURI(), noAuth: true}, want{status: 303})
		w.check("redirect goes to the order's URL", ok && r.header.Get("Location") == first.URL, r.header.Get("Location"))
	}

	r = w.step(ctx, "renewal, 7 days", req{method: "POST", path: loanPath(cbLend, loan.ID) + "/renewal", body: map[string]any{"days": 7}}, want{status: 200})
	var renewed host.Loan
	r.decode(&renewed)
	addition, _ := sim.Order(renewed.ProviderRef["last_order_reference"])
	w.check("the renewal is an addition to the order", addition.AdditionTo != "" && addition.AdditionTo == first.CbOrderReference && addition.UserID == first.UserID,
		fmt.Sprintf("CbOrderReference %s adds to %s", addition.CbOrderReference, addition.AdditionTo))
	orders := sim.CallsTo(cbsim.OpPlaceOrder)
	w.step(ctx, "renewal for another patron", req{method: "POST", path: loanPath(cbLend, loan.ID) + "/renewal",
		body: map[string]any{"days": 7, "patron": "someone-else"}}, want{status: 409, code: "patron_mismatch"})
	w.check("no order placed for the other patron", sim.CallsTo(cbsim.OpPlaceOrder) == orders, fmt.Sprintf("%d placeOrder calls", sim.CallsTo(cbsim.OpPlaceOrder)-orders))
	w.step(ctx, "return (not offered by CB)", req{method: "DELETE", path: loanPath(cbLend, loan.ID)}, want{status: 501, code: "unsupported_operation"})

	access := "/v1/providers/" + cbBookshelf + "/access-checks"
	var a host.AccessCheck
	r = w.step(ctx, "access check, granted", req{method: "POST", path: access,
		body: map[string]any{"item": cbsim.EANAvailable2, "patron": cbReader, "password": cbReaderPassword}}, want{status: 200})
	r.decode(&a)
	w.check("access is true", a.Access, strings.TrimSpace(string(r.body)))
	a = host.AccessCheck{Access: true}
	r = w.step(ctx, "access check, unknown user (EBS-10038)", req{method: "POST", path: access,
		body: map[string]any{"item": cbsim.EANAvailable2, "patron": "reader-nobody", "password": cbReaderPassword}}, want{status: 200})
	r.decode(&a)
	w.check("access is false", !a.Access, strings.TrimSpace(string(r.body)))

	// Refused locally: nothing reaches CB.
	calls := sim.Calls()
	w.step(ctx, "pair CB refuses (CR, DRM)", req{method: "POST", path: loans,
		body: order(cbsim.EANAvailable, map[string]string{"reading_method": "CR", "protection": "03"})}, want{status: 422, code: "unsupported_combination"})
	w.step(ctx, "22 days (CB lends 21 at most)", req{method: "POST", path: loans,
		body: map[string]any{"item": cbsim.EANAvailable, "patron": "patron-42", "days": 22}}, want{status: 400, code: "invalid_request"})
	w.step(ctx, "EAN with a wrong check digit", req{method: "POST", path: loans, body: order("9999999999999", nil)}, want{status: 400, code: "invalid_request"})
	w.check("none of the three reached CB", sim.Calls() == calls, fmt.Sprintf("%d calls to CB", sim.Calls()-calls))

	// CB's error table, one request per family.
	w.step(ctx, "EAN not at CB (EBS-10003)", req{method: "POST", path: loans, body: order(cbsim.EANNotFound, nil)}, want{status: 404, code: "item_not_found"})
	w.step(ctx, "not deliverable (EBS-10004)", req{method: "POST", path: loans, body: order(cbsim.EANNotDeliverable, nil)}, want{status: 409, code: "not_available"})
	w.step(ctx, "no cloud reading (EBS-10034)", req{method: "POST", path: loans,
		body: order(cbsim.EANNoCloudReading, map[string]string{"reading_method": "CR", "protection": "02"})}, want{status: 409, code: "not_available"})
	w.step(ctx, "credit limit (EBS-10017)", req{method: "POST", path: loans, body: order(cbsim.EANCreditLimit, nil)}, want{status: 409, code: "limit_reached"})
	w.step(ctx, "shoulder/tail for 14 days (EBS-10046)", req{method: "POST", path: loans,
		body: map[string]any{"item": cbsim.EANShoulderTail, "patron": "patron-42", "days": 14}}, want{status: 422, code: "unsupported_combination"})
	w.step(ctx, "CB fails (EBS-00001)", req{method: "POST", path: loans, body: order(cbsim.EANFailure, nil)}, want{status: 502, code: "provider_error"})
	w.step(ctx, "undocumented code (EBS-99999)", req{method: "POST", path: loans, body: order(cbsim.EANUnknownCode, nil)}, want{status: 502, code: "provider_error"})
	// EBS-10060 is about one title: that request answers try_later until
	// midnight in Amsterdam, and the instance goes on lending other titles.
	r = w.step(ctx, "no price until tomorrow (EBS-10060)", req{method: "POST", path: loans,
		body: order(cbsim.EANNoPrice, nil)}, want{status: 503, code: "try_later"})
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	left := untilAmsterdamMidnight(time.Now())
	w.check("Retry-After: until midnight in Amsterdam", err == nil && math.Abs(float64(ra)-left.Seconds()) <= 1,
		fmt.Sprintf("Retry-After: %s s, midnight in %s", r.header.Get("Retry-After"), left.Round(time.Second)))
	w.step(ctx, "another title at once, same instance", req{method: "POST", path: loans,
		body: map[string]any{"item": cbsim.EANAvailable2, "patron": "patron-43"}}, want{status: 201})
}

// untilAmsterdamMidnight is the time from now to the next midnight in CB's
// time zone.
func untilAmsterdamMidnight(now time.Time) time.Duration {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return 0
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Sub(now)
}
