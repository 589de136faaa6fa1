package sdktest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// A kit that passes everything proves nothing. Each broken variant of the
// fake breaks one rule; the kit runs on it in a child test process (a failing
// t cannot be observed from inside the same test), and the parent checks
// that the child failed exactly in the subtests that cover the rule.

// brokenEnv names the variant a child process runs the kit on.
const brokenEnv = "SDKTEST_BROKEN_VARIANT"

// renewUnsupported declares renew but answers unsupported_operation.
type renewUnsupported struct{ *fake }

func (renewUnsupported) Renew(context.Context, sdk.RenewRequest) (sdk.Loan, error) {
	return sdk.Loan{}, sdk.Errorf(sdk.CodeUnsupportedOperation, "renewal is not offered")
}

// returnUndeclared implements return but leaves it out of Describe.
type returnUndeclared struct{ *fake }

func (p returnUndeclared) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := p.fake.Describe(ctx)
	info.Capabilities = []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapDownload, sdk.CapAccessCheck, sdk.CapNotifications,
		sdk.CapResolve, sdk.CapAvailability, sdk.CapReconcile}
	return info, err
}

// ownCodes answers the distributor's code where a unified code belongs.
type ownCodes struct{ *fake }

func (p ownCodes) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	if r.Item == itemNoCopies {
		return sdk.Loan{}, sdk.Errorf("OUT_OF_STOCK", "no copies left")
	}
	return p.fake.Checkout(ctx, r)
}

// ignoresDeadline waits on its distributor whatever the call's deadline.
type ignoresDeadline struct{ *fake }

func (p ignoresDeadline) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	if r.Item == itemSlow {
		// Deliberately not ctx.Done(): this is the bug under test.
		<-time.After(3 * time.Second)
		return sdk.Loan{}, sdk.Errorf(sdk.CodeProviderTimeout, "distributor did not answer in time")
	}
	return p.fake.Checkout(ctx, r)
}

// panicsOnUnknown looks an instance up in a map and uses it unchecked.
type panicsOnUnknown struct{ *fake }

func (p panicsOnUnknown) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	var accounts map[string]*struct{ key string }
	if p.configured(r.Instance) == nil {
		accounts = map[string]*struct{ key string }{r.Instance: {key: "k"}}
	}
	_ = accounts[r.Instance].key // nil pointer for an unknown instance
	return p.fake.Checkout(ctx, r)
}

// inventsCapability declares a capability the protocol does not have.
type inventsCapability struct{ *fake }

func (p inventsCapability) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := p.fake.Describe(ctx)
	info.Capabilities = append(info.Capabilities, "reserve")
	return info, err
}

// emptyLoan lends, but answers nothing a reader could use.
type emptyLoan struct{ *fake }

func (p emptyLoan) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	if _, err := p.fake.Checkout(ctx, r); err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{}, nil
}

// renewKeepsExpiry renews without telling the loan's new end.
type renewKeepsExpiry struct{ *fake }

func (p renewKeepsExpiry) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	l, err := p.fake.Renew(ctx, r)
	l.ExpiresAt = time.Time{}
	return l, err
}

// renewsTwice declares DedupesRenew, but its distributor extends the loan
// again for a renewal id it saw.
type renewsTwice struct{ *fake }

func (p renewsTwice) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	p.mu.Lock()
	delete(p.renewed, r.RenewalID)
	p.mu.Unlock()
	return p.fake.Renew(ctx, r)
}

// returnsOnce declares DedupesReturn, but a second return of a loan answers
// loan_not_found.
type returnsOnce struct{ *fake }

func (p returnsOnce) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	p.mu.Lock()
	delete(p.returned, r.Loan.ID)
	p.mu.Unlock()
	l, err := p.fake.Return(ctx, r)
	if err == nil {
		p.mu.Lock()
		p.returned[r.Loan.ID+"#"] = true // remembered for the effects hook only
		p.mu.Unlock()
	}
	return l, err
}

// availableBeyondOwned counts more copies free than owned.
type availableBeyondOwned struct{ *fake }

func (p availableBeyondOwned) Availability(ctx context.Context, r sdk.AvailabilityRequest) (sdk.Availability, error) {
	a, err := p.fake.Availability(ctx, r)
	a.Available = a.Owned + 1
	return a, err
}

// reconcileLoops answers a cursor that leads back to itself.
type reconcileLoops struct{ *fake }

func (p reconcileLoops) Reconcile(ctx context.Context, r sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	return sdk.ReconcilePage{Loans: []sdk.HeldLoan{{LoanID: "ln_other"}}, Next: "again"}, nil
}

// reconcileForgets holds no loans, though it lends.
type reconcileForgets struct{ *fake }

func (p reconcileForgets) Reconcile(context.Context, sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	return sdk.ReconcilePage{}, nil
}

// resolveDenies answers not placed for every loan.
type resolveDenies struct{ *fake }

func (p resolveDenies) Resolve(context.Context, sdk.ResolveRequest) (sdk.Resolution, error) {
	return sdk.Resolution{}, nil
}

// busyForRequest scopes the distributor's "busy" to the request, while its
// error case says the whole account was asked to wait.
type busyForRequest struct{ *fake }

func (p busyForRequest) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	l, err := p.fake.Checkout(ctx, r)
	if e := sdk.AsError(err); e != nil && e.Code == sdk.CodeTryLater {
		return l, e.ForRequest()
	}
	return l, err
}

// brokenVariants: what each variant is and the subtests that must fail on
// it; every other subtest must pass.
type variant struct {
	config func(t *testing.T) sdktest.Config
	fail   []string
	// messages must each appear in the child's output: the kit names the
	// fix, not only the subtest.
	messages []string
	// early: the kit must stop before configure.
	early bool
}

var brokenVariants = map[string]variant{
	"control": {config: fakeVariant(func(f *fake) sdk.Provider { return f })},
	// The claim that renewals are deduplicated cannot hold either.
	"renew_unsupported": {config: fakeVariant(func(f *fake) sdk.Provider { return renewUnsupported{f} }),
		fail: []string{"capability/renew", "claim/dedupes_renew"}},
	"return_undeclared": {config: fakeVariant(func(f *fake) sdk.Provider { return returnUndeclared{f} }),
		fail: []string{"undeclared/return"}},
	"own_codes": {config: fakeVariant(func(f *fake) sdk.Provider { return ownCodes{f} }),
		fail: []string{"error_case/no_copies", "unified_codes"}},
	"ignores_deadline": {config: func(*testing.T) sdktest.Config {
		f := newFake()
		c := fakeConfig(ignoresDeadline{f}, f)
		c.Slack = 500 * time.Millisecond
		return c
	}, fail: []string{"deadline"}},
	"panics_on_unknown_instance": {config: fakeVariant(func(f *fake) sdk.Provider { return panicsOnUnknown{f} }),
		fail: []string{"unknown_instance", "no_panics"}},
	"invents_capability": {config: fakeVariant(func(f *fake) sdk.Provider { return inventsCapability{f} }),
		fail: []string{"describe"}, early: true},
	"binary_protocol_v2": {config: func(t *testing.T) sdktest.Config {
		return sdktest.Config{Binary: testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/v2plugin", "")}
	}, fail: []string{"handshake"}, early: true},
	"empty_loan": {config: fakeVariant(func(f *fake) sdk.Provider { return emptyLoan{f} }),
		fail: []string{"capability/checkout", "capability/fulfill", "capability/renew", "capability/notifications", "capability/resolve",
			"capability/return"}},

	"renew_keeps_expiry": {config: fakeVariant(func(f *fake) sdk.Provider { return renewKeepsExpiry{f} }),
		fail: []string{"capability/renew"}, messages: []string{"Renew answered no expiry (the zero time): answer the loan with its new ExpiresAt"}},
	"renews_twice": {config: fakeVariant(func(f *fake) sdk.Provider { return renewsTwice{f} }),
		fail: []string{"claim/dedupes_renew"}, messages: []string{"the simulator extended the loan 2 times under renewal id"}},
	"returns_once": {config: fakeVariant(func(f *fake) sdk.Provider { return returnsOnce{f} }),
		fail:     []string{"claim/dedupes_return"},
		messages: []string{"the plugin declares DedupesReturn, so a return of a loan already returned must answer the returned loan"}},
	"available_beyond_owned": {config: fakeVariant(func(f *fake) sdk.Provider { return availableBeyondOwned{f} }),
		fail: []string{"capability/availability"}, messages: []string{"Availability: owned 5, available 6; want owned ≥ available ≥ 0"}},
	"reconcile_loops": {config: fakeVariant(func(f *fake) sdk.Provider { return reconcileLoops{f} }),
		fail: []string{"capability/reconcile"}, messages: []string{`cursor "again" came back: paging would never end`}},
	"reconcile_forgets": {config: fakeVariant(func(f *fake) sdk.Provider { return reconcileForgets{f} }),
		fail: []string{"capability/reconcile"}, messages: []string{"is not among the loans the distributor holds"}},
	"resolve_denies": {config: fakeVariant(func(f *fake) sdk.Provider { return resolveDenies{f} }),
		fail: []string{"capability/resolve"}, messages: []string{"Resolve of the sample's loan answered not placed"}},
	"busy_for_request": {config: fakeVariant(func(f *fake) sdk.Provider { return busyForRequest{f} }),
		fail: []string{"error_case/busy"}, messages: []string{"the retry-after pauses the request, want the instance (ErrorCase.Scope)"}},

	// An error case whose callback waits without its ctx (a simulator that
	// sleeps) fails its own check at CheckTimeout, not the whole run.
	"callback_hangs": {config: func(*testing.T) sdktest.Config {
		f := newFake()
		c := fakeConfig(f, f)
		c.CheckTimeout = time.Second
		c.ErrorCases = append(c.ErrorCases, sdktest.ErrorCase{Name: "hangs", Code: sdk.CodeTryLater,
			Call: func(context.Context, sdk.Provider, string) error { select {} }})
		return c
	}, fail: []string{"error_case/hangs"}},

	// The mistakes of the plugin author's guide, in the guide's mode: a
	// binary, its simulator served by sdktest.Simulator (the fault hook),
	// effects hooks (binary_test.go). Each fails where it breaks a rule,
	// with the message that names the fix.
	"binary_control": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "") }},
	"binary_plain_error": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "plain_error") },
		fail: []string{"transport_failure", "typed_errors"}},
	"binary_sleeps": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "sleeps") },
		fail: []string{"deadline"}},
	// A stubbed return also answers success to every fault that should
	// have made it fail.
	"binary_noop_return": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "noop_return") },
		fail: []string{"capability/return", "fault/return/server_error", "fault/return/rate_limited", "fault/return/cut", "fault/return/slow",
			"fault/return/server_error_after_acting", "fault/return/cut_after_acting", "fault/return/slow_after_acting"},
		messages: []string{"Config.Effects.Return says the simulator recorded nothing", "return answered success under a gateway's 502"}},
	"binary_false_dedupe": {config: func(t *testing.T) sdktest.Config {
		return mistakesConfig(t, mistakesBinary(t, "-X main.dedupes=true"), "")
	}, fail: []string{"claim/dedupes_checkout", "fault/checkout/server_error_after_acting", "fault/checkout/garbage_after_acting",
		"fault/checkout/cut_after_acting", "fault/checkout/slow_after_acting"},
		messages: []string{"the distributor does not deduplicate checkouts by the loan id", "declare DedupesCheckout false"}},
	"binary_false_dedupe_without_hook": {config: func(t *testing.T) sdktest.Config {
		c := mistakesConfig(t, mistakesBinary(t, "-X main.dedupes=true"), "")
		c.Effects.Checkouts = nil
		return c
	}, fail: []string{"claim/dedupes_checkout"},
		messages: []string{"declares Info.DedupesCheckout, but Config.Effects.Checkouts is not set"}},
	"binary_leaks_key": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "leaks_key") },
		fail:     []string{"secrets"},
		messages: []string{`setting "api_key" in Checkout's error`, "[setting \\\"api_key\\\"]"}},
	"binary_unlocked_state": {config: func(t *testing.T) sdktest.Config {
		return mistakesConfig(t, raceBinary(t, mistakesPkg), "unlocked_state")
	}, fail: []string{"races"},
		messages: []string{"the plugin has a data race", "WARNING: DATA RACE", "main.(*plugin).Configure", "keep per-instance state in sdk.Instances"}},
	"binary_request_scoped_429": {config: func(t *testing.T) sdktest.Config {
		return mistakesConfig(t, mistakesBinary(t, ""), "request_scoped_429")
	}, fail: []string{"fault/checkout/rate_limited", "fault/return/rate_limited"},
		messages: []string{"the pause is scoped to the request, want the instance"}},
	"binary_zero_expiry": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "zero_expiry") },
		fail:     []string{"capability/checkout"},
		messages: []string{"asked for 14 days and the loan has no expiry"}},
	"binary_epoch_expiry": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "epoch_expiry") },
		fail:     []string{"capability/checkout"},
		messages: []string{"a date before 2000: a zero or misread Unix time"}},
	// The author expects what the plugin does: the kit still sees that the
	// distributor refused.
	"binary_unmapped_limit": {config: func(t *testing.T) sdktest.Config {
		c := mistakesConfig(t, mistakesBinary(t, ""), "unmapped_limit")
		c.ErrorCases[1].Code = sdk.CodeProviderError
		return c
	}, fail: []string{"error_case/patron_limit"},
		messages: []string{"the distributor refused with 409 PATRON_LIMIT and the plugin answered", `map "PATRON_LIMIT" in the plugin's error table`}},
	"binary_panics": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, mistakesBinary(t, ""), "panics") },
		fail:     []string{"capability/fulfill", "no_panics"},
		messages: []string{"Fulfill panicked: assignment to entry in nil map, at main.(*plugin).Fulfill (", "internal/mistakes/main.go:"}},
	"binary_claims_definitive": {config: func(t *testing.T) sdktest.Config {
		return mistakesConfig(t, mistakesBinary(t, ""), "claims_definitive")
	}, fail: []string{"fault/checkout/server_error", "fault/checkout/garbage", "fault/checkout/cut",
		"fault/checkout/server_error_after_acting", "fault/checkout/garbage_after_acting", "fault/checkout/cut_after_acting",
		"fault/return/server_error", "fault/return/cut", "fault/return/server_error_after_acting", "fault/return/cut_after_acting",
		"transport_failure"},
		messages: []string{"outcome definitive, want unknown", "a retry would act twice"}},
}

// fakeVariant is the config of the variant mk makes of a new fake.
func fakeVariant(mk func(*fake) sdk.Provider) func(*testing.T) sdktest.Config {
	return func(*testing.T) sdktest.Config {
		f := newFake()
		return fakeConfig(mk(f), f)
	}
}

// TestBrokenChild is the child process's test: it runs the kit on the
// variant its parent names, and is skipped in a normal run.
func TestBrokenChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestKitFailsBrokenProviders in a child process")
	}
	v, ok := brokenVariants[name]
	if !ok {
		t.Fatalf("no broken variant %q", name)
	}
	sdktest.Run(t, v.config(t))
}

// TestKitFailsBrokenProviders checks that the kit fails each broken variant
// exactly where it breaks the protocol, and passes the control.
func TestKitFailsBrokenProviders(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in a child process")
	}
	for name, v := range brokenVariants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the child did not finish in time:\n%s", out)
			}
			failed, passed := results(string(out))
			if len(v.fail) == 0 {
				if err != nil || len(failed) > 0 {
					t.Fatalf("the kit failed the well-behaved control (%v, failed %v):\n%s", err, failed, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the kit passed %s:\n%s", name, out)
			}
			for _, sub := range v.fail {
				if !failed[sub] {
					t.Errorf("%s: want subtest %s to fail; failed %v", name, sub, keys(failed))
				}
			}
			for sub := range failed {
				if !contains(v.fail, sub) {
					t.Errorf("%s: subtest %s failed too, but the variant breaks only %v", name, sub, v.fail)
				}
			}
			for _, m := range v.messages {
				if !strings.Contains(string(out), m) {
					t.Errorf("%s: the child's output does not say %q", name, m)
				}
			}
			if !v.early && !passed["configure"] {
				t.Errorf("%s: the kit stopped early (configure did not pass)", name)
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

// results reads `go test -v` output: the child's subtests that failed and
// passed, by name under TestBrokenChild/.
func results(out string) (failed, passed map[string]bool) {
	failed, passed = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		for prefix, set := range map[string]map[string]bool{"--- FAIL: TestBrokenChild/": failed, "--- PASS: TestBrokenChild/": passed} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				name, _, _ := strings.Cut(rest, " ")
				set[name] = true
			}
		}
	}
	return failed, passed
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
