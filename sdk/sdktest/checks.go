package sdktest

import (
	"mime"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// capabilities are the capability names of api.md "Provider", in the order
// the kit exercises them (return last: it ends the loan).
var capabilities = []sdk.Capability{
	sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapNotifications,
	sdk.CapDownload, sdk.CapAccessCheck, sdk.CapResolve, sdk.CapAvailability,
	sdk.CapReconcile, sdk.CapReturn,
}

// events are the event types a notification may become (api.md §5).
var events = []string{
	sdk.EventLoanCreated, sdk.EventLoanRenewed, sdk.EventLoanReturned,
	sdk.EventLoanExpired, sdk.EventLoanRevoked, sdk.EventLoanNotified,
	sdk.EventLoanActivated,
}

func (k *kit) checkDescribe(t *testing.T) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	info, err := k.p.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	k.info = info
	if info.Name == "" {
		t.Error("Describe: empty name")
	}
	if info.Version == "" {
		t.Error("Describe: empty version")
	}
	seen := map[sdk.Capability]bool{}
	for _, c := range info.Capabilities {
		if !slices.Contains(capabilities, c) {
			t.Errorf("Describe: unknown capability %q (known: %v)", c, capabilities)
		}
		if seen[c] {
			t.Errorf("Describe: capability %q declared twice", c)
		}
		seen[c] = true
	}
	if len(info.Formats) == 0 {
		t.Error("Describe: no formats")
	}
	for _, f := range info.Formats {
		if f == "" {
			t.Error("Describe: an empty format name")
		}
	}
	if info.Items != "" && info.Items != sdk.ItemsISBN {
		t.Errorf("Describe: items %q, want %q or empty (the distributor's own ids)", info.Items, sdk.ItemsISBN)
	}
	for name := range info.Options {
		if name == "" {
			t.Error("Describe: an option with an empty name")
		}
	}
	for _, key := range info.Secrets {
		if key == "" {
			t.Error("Describe: an empty setting name in Secrets")
		}
	}
	k.secrets.addSettings(k.c.Settings, info.Secrets)
}

// checkConfigure configures the instance and a second one, as the host
// does at start, then the first again, as on a swap: a plugin serves every
// instance of its distributor from one process (concurrent_checkouts calls
// both at once).
func (k *kit) checkConfigure(t *testing.T) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	instances := []string{k.c.Instance, k.instance2()}
	for _, in := range instances {
		if err := k.p.Configure(ctx, in, k.c.Settings); err != nil {
			t.Fatalf("Configure(%q): %s", in, k.explain(t, err))
		}
	}
	// The host configures every instance again on each restart and swap.
	if err := k.p.Configure(ctx, k.c.Instance, k.c.Settings); err != nil {
		t.Fatalf("Configure(%q) a second time with the same settings: %s", k.c.Instance, k.explain(t, err))
	}
	for _, in := range instances {
		if err := k.p.Health(ctx, in); err != nil {
			t.Errorf("Health(%q) after Configure: %s (the host health-checks every instance at start and swap)", in, k.explain(t, err))
		}
	}
}

// checkCapabilities exercises every declared capability with the samples:
// a checkout, then the operations on its loan, then the others.
func (k *kit) checkCapabilities(t *testing.T) {
	var ref sdk.LoanRef
	haveLoan := false
	needLoan := func(t *testing.T) {
		if !haveLoan {
			t.Fatal("needs the loan of a successful checkout (see capability/checkout)")
		}
	}
	for _, c := range capabilities {
		if !k.info.Has(c) {
			continue
		}
		k.sub(t, "capability/"+string(c), func(t *testing.T) {
			switch c {
			case sdk.CapCheckout:
				ref, haveLoan = k.checkCheckout(t)
			case sdk.CapFulfill:
				needLoan(t)
				k.checkFulfill(t, ref)
			case sdk.CapRenew:
				needLoan(t)
				ref = k.checkRenew(t, ref)
			case sdk.CapNotifications:
				needLoan(t)
				k.checkNotification(t, ref)
			case sdk.CapDownload:
				k.checkDownload(t)
			case sdk.CapAccessCheck:
				k.checkAccess(t)
			case sdk.CapResolve:
				needLoan(t)
				k.checkResolve(t, ref)
			case sdk.CapAvailability:
				k.checkAvailability(t)
			case sdk.CapReconcile:
				k.checkReconcile(t)
			case sdk.CapReturn:
				needLoan(t)
				k.checkReturn(t, ref)
			}
		})
	}
}

func (k *kit) checkCheckout(t *testing.T) (sdk.LoanRef, bool) {
	if k.c.Checkout.Item == "" {
		t.Fatal("the plugin declares checkout: set Config.Checkout to a checkout the simulator accepts")
	}
	k.checkSample(t)
	ctx, cancel := k.callCtx(t)
	defer cancel()
	r := k.checkout()
	asked := time.Now()
	loan, err := k.p.Checkout(ctx, r)
	if err != nil {
		t.Fatalf("Checkout of the sample: %s", k.explain(t, err))
	}
	if len(loan.Links) == 0 && len(loan.ProviderRef) == 0 {
		t.Error("Checkout: the loan has neither links nor a provider ref, nothing to read or fulfill it with")
	}
	checkLinks(t, "Checkout", loan.Links)
	if loan.Format != "" && !slices.Contains(k.info.Formats, loan.Format) {
		t.Errorf("Checkout: loan format %q is not one of the declared formats %v", loan.Format, k.info.Formats)
	}
	k.checkExpiry(t, "Checkout", r.Days, asked, loan.ExpiresAt)
	k.checkEffect(t, sdk.CapCheckout, "Checkout", func() bool { return k.c.Effects.Checkout(r, loan) }, k.c.Effects.Checkout != nil)
	// The operations on the loan need something to find it by: a loan
	// with neither links nor a provider ref is not one.
	usable := len(loan.Links) > 0 || len(loan.ProviderRef) > 0
	return loanRef(r, loan), usable
}

// checkSample checks the Checkout sample the way the host checks a request
// before any call, so that a sample the host would refuse is reported as
// such rather than as a plugin fault.
func (k *kit) checkSample(t *testing.T) {
	r := k.c.Checkout
	if k.info.Items == sdk.ItemsISBN && !isbn.Valid(r.Item) {
		t.Errorf("Config.Checkout: item %q is not an ISBN-13 with a valid check digit; the host hands the plugin nothing else", r.Item)
	}
	if r.Format != "" && !slices.Contains(k.info.Formats, r.Format) {
		t.Errorf("Config.Checkout: format %q is not declared (%v); the host would refuse it", r.Format, k.info.Formats)
	}
	for name, v := range r.Options {
		allowed, ok := k.info.Options[name]
		switch {
		case !ok:
			t.Errorf("Config.Checkout: option %q is not declared; the host would refuse it", name)
		case len(allowed) > 0 && !slices.Contains(allowed, v):
			t.Errorf("Config.Checkout: option %s=%q is not one of %v; the host would refuse it", name, v, allowed)
		}
	}
}

func (k *kit) checkFulfill(t *testing.T, ref sdk.LoanRef) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	f, err := k.p.Fulfill(ctx, sdk.FulfillRequest{Instance: k.c.Instance, Loan: ref})
	if err != nil {
		t.Fatalf("Fulfill of the checkout's loan: %s", k.explain(t, err))
	}
	if len(f.Links) == 0 {
		t.Error("Fulfill: no links")
	}
	checkLinks(t, "Fulfill", f.Links)
}

func (k *kit) checkRenew(t *testing.T, ref sdk.LoanRef) sdk.LoanRef {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	asked := time.Now()
	loan, err := k.p.Renew(ctx, sdk.RenewRequest{Instance: k.c.Instance, Loan: ref, Days: k.c.RenewDays, RenewalID: k.loanID()})
	if err != nil {
		t.Fatalf("Renew of the checkout's loan by %d days: %s", k.c.RenewDays, k.explain(t, err))
	}
	checkLinks(t, "Renew", loan.Links)
	k.checkRenewedExpiry(t, ref.ExpiresAt, asked, loan.ExpiresAt)
	if !loan.ExpiresAt.IsZero() {
		ref.ExpiresAt = loan.ExpiresAt
	}
	k.checkEffect(t, sdk.CapRenew, "Renew", func() bool { return k.c.Effects.Renew(ref, loan) }, k.c.Effects.Renew != nil)
	return ref
}

func (k *kit) checkNotification(t *testing.T, ref sdk.LoanRef) {
	if k.c.Notification == nil {
		t.Fatal("the plugin declares notifications: set Config.Notification to a callback the distributor would send")
	}
	var n sdk.Notification
	if !k.bound(t, "Config.Notification", func() { n = k.c.Notification(ref) }) {
		return
	}
	n.Instance = k.c.Instance
	if n.Loan.ID == "" {
		n.Loan = ref
	}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	ev, err := k.p.HandleNotification(ctx, n)
	if err != nil {
		t.Fatalf("HandleNotification of the sample: %s", k.explain(t, err))
	}
	if !slices.Contains(events, ev.Type) {
		t.Errorf("HandleNotification: event type %q is not one of %v", ev.Type, events)
	}
}

func (k *kit) checkDownload(t *testing.T) {
	if k.c.Download == (sdk.DownloadRequest{}) {
		t.Fatal("the plugin declares download: set Config.Download to a download the simulator accepts")
	}
	r := k.c.Download
	r.Instance = k.c.Instance
	ctx, cancel := k.callCtx(t)
	defer cancel()
	f, err := k.p.Download(ctx, r)
	if err != nil {
		t.Fatalf("Download of the sample: %s", k.explain(t, err))
	}
	if len(f.Links) == 0 {
		t.Error("Download: no links")
	}
	checkLinks(t, "Download", f.Links)
	k.checkEffect(t, sdk.CapDownload, "Download", func() bool { return k.c.Effects.Download(r, f) }, k.c.Effects.Download != nil)
}

func (k *kit) checkAccess(t *testing.T) {
	if k.c.Access == (sdk.AccessRequest{}) {
		t.Fatal("the plugin declares access_check: set Config.Access to an access check the simulator answers")
	}
	r := k.c.Access
	r.Instance = k.c.Instance
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.CheckAccess(ctx, r); err != nil {
		t.Fatalf("CheckAccess of the sample: %s", k.explain(t, err))
	}
}

func (k *kit) checkReturn(t *testing.T, ref sdk.LoanRef) {
	ctx, cancel := k.callCtx(t)
	defer cancel()
	loan, err := k.p.Return(ctx, sdk.ReturnRequest{Instance: k.c.Instance, Loan: ref})
	if err != nil {
		t.Fatalf("Return of the checkout's loan: %s", k.explain(t, err))
	}
	checkLinks(t, "Return", loan.Links)
	k.checkEffect(t, sdk.CapReturn, "Return", func() bool { return k.c.Effects.Return(ref) }, k.c.Effects.Return != nil)
}

// checkLinks checks what the host hands to readers: absolute http(s)
// links, a known rel, supplements named, a media type that parses.
func checkLinks(t *testing.T, op string, links []sdk.Link) {
	t.Helper()
	for i, l := range links {
		u, err := url.Parse(l.Href)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			t.Errorf("%s: link %d: href %q is not an absolute http(s) URL", op, i, l.Href)
		}
		switch l.Rel {
		case sdk.RelContent, sdk.RelManifest, sdk.RelStream:
		case sdk.RelSupplement:
			if l.Name == "" {
				t.Errorf("%s: link %d: a supplement link needs a name", op, i)
			}
		default:
			t.Errorf("%s: link %d: rel %q, want %s, %s, %s or %s (sdk.Rel*)", op, i, l.Rel, sdk.RelContent, sdk.RelSupplement, sdk.RelManifest, sdk.RelStream)
		}
		if l.Type != "" {
			if _, _, err := mime.ParseMediaType(l.Type); err != nil {
				t.Errorf("%s: link %d: type %q is not a media type (sdk.MediaType*): %v", op, i, l.Type, err)
			}
		}
	}
}

// checkUndeclared calls every capability the plugin did not declare and
// expects unsupported_operation: the host refuses undeclared operations
// itself, but a plugin that implements one without declaring it (or the
// reverse) has its Describe wrong.
func (k *kit) checkUndeclared(t *testing.T) {
	ref := sdk.LoanRef{ID: k.loanID(), Item: k.c.Checkout.Item, Patron: k.c.Checkout.Patron,
		Format: k.c.Checkout.Format, ExpiresAt: time.Now().Add(24 * time.Hour), Options: k.c.Checkout.Options}
	for _, c := range capabilities {
		if k.info.Has(c) {
			continue
		}
		k.sub(t, "undeclared/"+string(c), func(t *testing.T) {
			ctx, cancel := k.callCtx(t)
			defer cancel()
			err := k.call(ctx, c, k.c.Instance, ref)
			if got := sdk.CodeOf(err); got != sdk.CodeUnsupportedOperation {
				t.Errorf("%s is not declared: want %s, got %v", c, sdk.CodeUnsupportedOperation, describeErr(err))
			}
		})
	}
}
