package host

import (
	"context"
	"maps"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - Every plugin answer passes one guard (guard.go) on its way in, at
//     instance.do: provider_ref and event data keep at most 32 entries with
//     keys up to 128 bytes and values up to 4 KiB; an oversized entry is
//     dropped whole (a cut reference would be wrong, not shorter), surplus
//     entries in key order. A loan format over 100 bytes is ignored. Event
//     types outside api.md §5 (and the host's loan.resolved) become
//     loan.notified.

// The host trusts plugins only so far (api.md §7): what a plugin answers is
// stored, echoed to the ILS and sent to browsers, so every answer passes the
// guard below on its way in. Links must be http(s) and are bounded in number
// and size; provider_ref and event data are bounded in entries and size;
// event types outside api.md §5 read as loan.notified. Whatever is cut is
// logged at warn (never with its content) and dropped links are counted.
// (A plugin's codes and messages are bounded by sdk on the wire.)

const (
	// maxRefEntries, maxRefKey and maxRefValue bound a loan's provider_ref
	// and an event's data: what distributors need (order references,
	// transaction ids, a loan URL) is a handful of short strings.
	maxRefEntries = 32
	maxRefKey     = 128
	maxRefValue   = 4 << 10
	// maxFormatBytes bounds the format a plugin answers for a loan.
	maxFormatBytes = 100
)

// pluginGuard checks one instance's answers.
type pluginGuard struct {
	provider string
	log      hclog.Logger
	metrics  *metrics
}

// guarded returns p seen through the instance's guard. A plugin that
// resolves stays a Resolver.
func (in *instance) guarded(p sdk.Provider) sdk.Provider {
	g := guardedProvider{Provider: p, g: in.guard}
	if r, ok := p.(sdk.Resolver); ok {
		return guardedResolver{guardedProvider: g, r: r}
	}
	return g
}

// guardedOn is a generation's provider seen through an instance's guard.
type guardedOn struct {
	gen  *generation
	prov sdk.Provider
}

// guardedOn returns g's provider seen through the instance's guard, kept
// for the next call on the same generation (every call used to wrap it
// anew, two allocations each).
func (in *instance) guardedOn(g *generation) sdk.Provider {
	if c := in.guardedGen.Load(); c != nil && c.gen == g {
		return c.prov
	}
	c := &guardedOn{gen: g, prov: in.guarded(g.prov)}
	in.guardedGen.Store(c)
	return c.prov
}

func (g *pluginGuard) warn(msg string, args ...any) {
	if g.log != nil {
		g.log.Warn(msg, append([]any{"provider", g.provider}, args...)...)
	}
}

func (g *pluginGuard) links(op string, ls []sdk.Link) []sdk.Link {
	if linksFit(ls) {
		return ls
	}
	out := make([]sdk.Link, 0, min(len(ls), maxLinks))
	for _, l := range ls {
		if len(out) == maxLinks {
			g.warn("plugin answered too many links; the rest are dropped", "op", op, "links", len(ls), "kept", maxLinks)
			g.metrics.linksDropped(g.provider, len(ls)-maxLinks)
			break
		}
		if why := linkProblem(l); why != "" {
			// The scheme only: the rest of a hostile href is the payload.
			g.warn("dropped a distributor link", "op", op, "reason", why, "scheme", clip(linkScheme(l.Href), 16), "href_bytes", len(l.Href))
			g.metrics.linksDropped(g.provider, 1)
			continue
		}
		if len(l.Format) > maxLinkText || len(l.Rel) > maxLinkText || len(l.Name) > maxLinkText {
			g.warn("cut a link's long format, rel or name", "op", op)
			l.Format, l.Rel, l.Name = clipText(l.Format, maxLinkText), clipText(l.Rel, maxLinkText), clipText(l.Name, maxLinkText)
		}
		out = append(out, l)
	}
	return out
}

// strings bounds a map of a plugin's strings: entries with a long key or
// value are dropped (a cut value would be wrong, not shorter), then entries
// beyond maxRefEntries, in key order so the same answer keeps the same
// entries.
func (g *pluginGuard) strings(op, what string, m map[string]string) map[string]string {
	if stringsFit(m) {
		return m
	}
	out := make(map[string]string, min(len(m), maxRefEntries))
	dropped := 0
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if len(k) > maxRefKey || len(v) > maxRefValue || len(out) == maxRefEntries {
			dropped++
			continue
		}
		out[k] = v
	}
	if dropped > 0 {
		g.warn("dropped oversized or surplus entries of a plugin's answer", "op", op, "field", what, "dropped", dropped, "kept", len(out))
	}
	return out
}

func (g *pluginGuard) loan(op string, l sdk.Loan) sdk.Loan {
	if len(l.Format) > maxFormatBytes {
		g.warn("ignored a plugin's overlong format", "op", op, "bytes", len(l.Format))
		l.Format = ""
	}
	l.Links = g.links(op, l.Links)
	l.ProviderRef = g.strings(op, "provider_ref", l.ProviderRef)
	return l
}

func (g *pluginGuard) event(ev sdk.Event) sdk.Event {
	if ev.Type != "" && !slices.Contains(eventTypes, ev.Type) {
		g.warn("plugin reported an unknown event type; stored as loan.notified", "type", clip(ev.Type, 40))
		ev.Type = sdk.EventLoanNotified
	}
	ev.Data = g.strings("notification", "data", ev.Data)
	return ev
}

// guardedProvider passes every call to the plugin and checks its answer.
type guardedProvider struct {
	sdk.Provider
	g *pluginGuard
}

func (p guardedProvider) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	l, err := p.Provider.Checkout(ctx, r)
	return p.g.loan("checkout", l), err
}

func (p guardedProvider) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	f, err := p.Provider.Fulfill(ctx, r)
	f.Links = p.g.links("fulfill", f.Links)
	return f, err
}

func (p guardedProvider) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	l, err := p.Provider.Renew(ctx, r)
	return p.g.loan("renew", l), err
}

func (p guardedProvider) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	l, err := p.Provider.Return(ctx, r)
	return p.g.loan("return", l), err
}

func (p guardedProvider) Download(ctx context.Context, r sdk.DownloadRequest) (sdk.Fulfillment, error) {
	f, err := p.Provider.Download(ctx, r)
	f.Links = p.g.links("download", f.Links)
	return f, err
}

func (p guardedProvider) HandleNotification(ctx context.Context, n sdk.Notification) (sdk.Event, error) {
	ev, err := p.Provider.HandleNotification(ctx, n)
	return p.g.event(ev), err
}

// guardedResolver is a guardedProvider whose plugin resolves.
type guardedResolver struct {
	guardedProvider
	r sdk.Resolver
}

func (p guardedResolver) Resolve(ctx context.Context, r sdk.ResolveRequest) (sdk.Resolution, error) {
	res, err := p.r.Resolve(ctx, r)
	res.Loan = p.g.loan("resolve", res.Loan)
	return res, err
}

// linksFit reports whether ls passes the guard unchanged (the common case,
// checked without allocating).
func linksFit(ls []sdk.Link) bool {
	if len(ls) > maxLinks {
		return false
	}
	for _, l := range ls {
		if linkProblem(l) != "" || len(l.Format) > maxLinkText || len(l.Rel) > maxLinkText || len(l.Name) > maxLinkText {
			return false
		}
	}
	return true
}

// stringsFit reports whether m passes the guard unchanged.
func stringsFit(m map[string]string) bool {
	if len(m) > maxRefEntries {
		return false
	}
	for k, v := range m {
		if len(k) > maxRefKey || len(v) > maxRefValue {
			return false
		}
	}
	return true
}
