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
	info.Capabilities = []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapDownload, sdk.CapAccessCheck, sdk.CapNotifications}
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

// brokenVariants: what each variant is and the subtests that must fail on
// it; every other subtest must pass.
type variant struct {
	config func(t *testing.T) sdktest.Config
	fail   []string
	// early: the kit must stop before configure.
	early bool
}

var brokenVariants = map[string]variant{
	"control": {config: func(*testing.T) sdktest.Config { return fakeConfig(newFake()) }},
	"renew_unsupported": {config: func(*testing.T) sdktest.Config { return fakeConfig(renewUnsupported{newFake()}) },
		fail: []string{"capability/renew"}},
	"return_undeclared": {config: func(*testing.T) sdktest.Config { return fakeConfig(returnUndeclared{newFake()}) },
		fail: []string{"undeclared/return"}},
	"own_codes": {config: func(*testing.T) sdktest.Config { return fakeConfig(ownCodes{newFake()}) },
		fail: []string{"error_case/no_copies", "unified_codes"}},
	"ignores_deadline": {config: func(*testing.T) sdktest.Config {
		c := fakeConfig(ignoresDeadline{newFake()})
		c.Slack = 500 * time.Millisecond
		return c
	}, fail: []string{"deadline"}},
	"panics_on_unknown_instance": {config: func(*testing.T) sdktest.Config { return fakeConfig(panicsOnUnknown{newFake()}) },
		fail: []string{"unknown_instance", "no_panics"}},
	"invents_capability": {config: func(*testing.T) sdktest.Config { return fakeConfig(inventsCapability{newFake()}) },
		fail: []string{"describe"}, early: true},
	"binary_protocol_v2": {config: func(t *testing.T) sdktest.Config {
		return sdktest.Config{Binary: testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/v2plugin", "")}
	}, fail: []string{"handshake"}, early: true},
	"empty_loan": {config: func(*testing.T) sdktest.Config { return fakeConfig(emptyLoan{newFake()}) },
		fail: []string{"capability/checkout", "capability/fulfill", "capability/renew", "capability/notifications", "capability/return"}},

	// An error case whose callback waits without its ctx (a simulator that
	// sleeps) fails its own check at CheckTimeout, not the whole run.
	"callback_hangs": {config: func(*testing.T) sdktest.Config {
		c := fakeConfig(newFake())
		c.CheckTimeout = time.Second
		c.ErrorCases = append(c.ErrorCases, sdktest.ErrorCase{Name: "hangs", Code: sdk.CodeTryLater,
			Call: func(context.Context, sdk.Provider, string) error { select {} }})
		return c
	}, fail: []string{"error_case/hangs"}},

	// The mistakes of the plugin author's guide, in the guide's mode: a
	// binary, its simulator, effects hooks (binary_test.go).
	"binary_control": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, "") }},
	"binary_plain_error": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, "plain_error") },
		fail: []string{"transport_failure", "typed_errors"}},
	"binary_sleeps": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, "sleeps") },
		fail: []string{"deadline"}},
	"binary_noop_return": {config: func(t *testing.T) sdktest.Config { return mistakesConfig(t, "noop_return") },
		fail: []string{"capability/return"}},
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
