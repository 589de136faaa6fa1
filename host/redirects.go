package host

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - A redirect URL reuses the fresh link it last got for 30 s, or until
//     10 s before that link expires if sooner, on the node that served it;
//     uses at the same moment wait for one distributor call; failures are
//     not reused; the loan must still be active at every use. So a leaked
//     URL costs at most one distributor call per 30 s (≤ 30 over its 15
//     minutes at most) instead of one per use, and gives its holder nothing
//     it did not have. At most 10 000 URLs are remembered per node; beyond
//     that, URLs not yet remembered ask the distributor every time.
//   - A redirect goes to the loan's content link of the asked format; a
//     loan without one (an audiobook that only streams) goes to its
//     manifest link, else its stream link (redirectRels). A supplement is
//     never a redirect's target.

// A redirect URL (api.md §4) is a bearer credential for ten minutes: whoever
// holds it, a patron's browser or whoever it leaked to, gets a fresh link at
// every use. Without a bound, every use is a distributor call, and a leaked
// URL replayed in a loop uses up the instance's rate limit for every other
// patron. So one URL reuses the fresh link it last got for a short while:
// the holder learns nothing new (the link was already its to follow), and a
// replay costs at most one distributor call per redirectReuse per URL.

const (
	// redirectReuse is how long a fresh link is handed out again to the
	// same redirect URL.
	redirectReuse = 30 * time.Second
	// redirectLinkMargin: a link that expires sooner than this is not
	// handed out again, so a browser never gets a link about to die.
	redirectLinkMargin = 10 * time.Second
	// maxRedirectEntries bounds the memory of the reuse: beyond it, a URL
	// without an entry asks the distributor every time.
	maxRedirectEntries = 10000
)

// redirectCache holds the last fresh link of each redirect URL in use on
// this node. The zero value is ready.
type redirectCache struct {
	mu        sync.Mutex
	entries   map[string]*redirectEntry
	lastSweep time.Time
}

type redirectEntry struct {
	// turn is held while the distributor is asked, so that uses of one
	// URL at the same moment make one call.
	turn    chan struct{}
	href    string
	until   time.Time // reuse href until then
	expires time.Time // the URL's own expiry: the entry is useless after it
}

// entry returns the entry of key, creating it; nil when the cache is full.
func (c *redirectCache) entry(key string, expires, now time.Time) *redirectEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		return e
	}
	if c.entries == nil {
		c.entries = map[string]*redirectEntry{}
	}
	// Entries of expired URLs go at most once a minute, or at once when
	// the cache is full: memory follows the URLs in use.
	if len(c.entries) >= maxRedirectEntries || now.Sub(c.lastSweep) > time.Minute {
		c.lastSweep = now
		for k, e := range c.entries {
			if !e.expires.After(now) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxRedirectEntries {
			return nil
		}
	}
	e := &redirectEntry{turn: make(chan struct{}, 1), expires: expires}
	c.entries[key] = e
	return e
}

// contentHref returns the link a redirect URL sends the browser to: the
// one it got less than redirectReuse ago if that is still valid, else a
// fresh one from the distributor. Failures are not reused.
func (h *Host) contentHref(ctx context.Context, in *instance, rec storedLoan, format string, exp int64) (string, error) {
	now := time.Now()
	key := in.name + "\x00" + rec.Loan.ID + "\x00" + format + "\x00" + strconv.FormatInt(exp, 10)
	e := h.redirects.entry(key, time.Unix(exp, 0), now)
	if e == nil {
		href, _, err := h.freshContentHref(ctx, in, rec, format)
		return href, err
	}
	select {
	case e.turn <- struct{}{}:
		defer func() { <-e.turn }()
	case <-ctx.Done():
		return "", sdk.Errorf(sdk.CodeTryLater, "the redirect is being served; try again").WithRetryAfter(time.Second)
	}
	if e.href != "" && time.Now().Before(e.until) {
		return e.href, nil
	}
	href, linkExp, err := h.freshContentHref(ctx, in, rec, format)
	if err != nil {
		return "", err
	}
	until := time.Now().Add(redirectReuse)
	if !linkExp.IsZero() && linkExp.Add(-redirectLinkMargin).Before(until) {
		until = linkExp.Add(-redirectLinkMargin)
	}
	e.href, e.until = href, until
	return href, nil
}

// redirectRels are the link relations a redirect URL may send the browser
// to, in the order it prefers them: the publication itself (its file, or
// the licence that unlocks it), else the manifest a reading or listening
// app streams it from, else a page that reads or plays it in the browser.
// A supplement never stands in for the publication.
var redirectRels = []string{sdk.RelContent, sdk.RelManifest, sdk.RelStream}

// freshContentHref asks the distributor for the loan's link in format (of
// the first of redirectRels it offers), and when it expires (zero: not
// said).
func (h *Host) freshContentHref(ctx context.Context, in *instance, rec storedLoan, format string) (string, time.Time, error) {
	links, err := h.fulfill(ctx, in, rec, format)
	if err != nil {
		return "", time.Time{}, err
	}
	if l, ok := redirectLink(links, format); ok {
		var exp time.Time
		if l.ExpiresAt != nil {
			exp = *l.ExpiresAt
		}
		return l.Href, exp, nil
	}
	return "", time.Time{}, sdk.Errorf(sdk.CodeNotAvailable, "no %s content, manifest or stream link for loan %s", echo(format), rec.Loan.ID)
}

// redirectLink is the link of format ("" or a link without a format: any)
// that a redirect URL sends the browser to: by redirectRels, then in the
// distributor's order.
func redirectLink(links []Link, format string) (Link, bool) {
	for _, rel := range redirectRels {
		for _, l := range links {
			if l.Rel == rel && (format == "" || l.Format == format || l.Format == "") && safeHref(l.Href) {
				return l, true
			}
		}
	}
	return Link{}, false
}
