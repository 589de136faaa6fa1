package main

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Bounds on a feed read, so that a distributor's feed (or a loop of next
// links) cannot hold the plugin's memory or time without end.
const (
	maxFeedPages        = 10_000
	maxPublications     = 250_000
	maxLicencesPerTitle = 64
	// feedReadTimeout bounds one read of the whole feed. A read runs on
	// the instance's own context, not the caller's: a caller that gives up
	// leaves it to finish for the next one.
	feedReadTimeout = 10 * time.Minute
	// rereadInterval is how often, at most, the feed is read again because
	// a call named an item the index does not have (a title bought since
	// the last read).
	rereadInterval = time.Minute
)

// index is an instance's view of its feed: publications by item id, read
// whole, replaced whole by the next successful read.
type index struct {
	// ctx is the instance's: Configure replacing the instance cancels it,
	// which ends a read in progress.
	ctx context.Context

	mu      sync.Mutex
	items   map[string]*publication
	sorted  []*licence // every licence, by id (reconcile pages)
	loaded  time.Time  // when the last successful read started
	started time.Time  // when the last read started
	reading chan struct{}
	lastErr *sdk.Error
}

func newIndex(ctx context.Context) *index { return &index{ctx: ctx} }

// readFunc reads the whole feed.
type readFunc func(ctx context.Context) (map[string]*publication, *sdk.Error)

// publication returns the publication of item. The index is read first
// when it has never been read, or when it lacks the item and was last
// read rereadInterval ago or more; a stale index (older than refresh) is
// read again in the background while the stale one answers.
func (ix *index) publication(ctx context.Context, item string, now time.Time, refresh time.Duration, read readFunc) (*publication, error) {
	ix.mu.Lock()
	pub := ix.lookup(item)
	have := ix.items != nil
	stale := have && now.Sub(ix.loaded) >= refresh
	recent := now.Sub(ix.started) < rereadInterval
	ix.mu.Unlock()
	switch {
	case pub != nil:
		if stale {
			ix.start(now, read)
		}
		return pub, nil
	case have && recent && !stale:
		return nil, notInFeed(item)
	}
	if err := ix.wait(ctx, ix.start(now, read)); err != nil {
		return nil, err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if pub := ix.lookup(item); pub != nil {
		return pub, nil
	}
	if ix.items == nil && ix.lastErr != nil {
		return nil, ix.lastErr
	}
	return nil, notInFeed(item)
}

func notInFeed(item string) *sdk.Error {
	return sdk.Errorf(sdk.CodeItemNotFound, "item %q is in none of the distributor's publications with a licence", item)
}

// licences returns every licence of the index, by id, reading the feed
// first as publication does for an item it lacks.
func (ix *index) licences(ctx context.Context, now time.Time, refresh time.Duration, read readFunc) ([]*licence, error) {
	ix.mu.Lock()
	have, stale := ix.items != nil, now.Sub(ix.loaded) >= refresh
	ix.mu.Unlock()
	switch {
	case have && stale:
		ix.start(now, read)
	case !have:
		if err := ix.wait(ctx, ix.start(now, read)); err != nil {
			return nil, err
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.items == nil && ix.lastErr != nil {
		return nil, ix.lastErr
	}
	return ix.sorted, nil
}

// lookup finds item under any of its keys. Call with ix.mu held.
func (ix *index) lookup(item string) *publication {
	for _, k := range itemKeys(item) {
		if p := ix.items[k]; p != nil {
			return p
		}
	}
	return nil
}

// start starts a read unless one is running, and returns the channel
// closed when the running read ends.
func (ix *index) start(now time.Time, read readFunc) chan struct{} {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.reading != nil {
		return ix.reading
	}
	done := make(chan struct{})
	ix.reading, ix.started = done, now
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(ix.ctx, feedReadTimeout)
		defer cancel()
		items, err := read(ctx)
		ix.mu.Lock()
		defer ix.mu.Unlock()
		ix.reading = nil
		ix.lastErr = err
		if err == nil {
			ix.items, ix.loaded = items, now
			ix.sorted = sortLicences(items)
		}
	}()
	return done
}

// wait waits for a read to end, or for ctx. A caller that gives up has
// sent nothing that acts at the distributor (a feed read changes nothing
// there): OutcomeNotSent.
func (ix *index) wait(ctx context.Context, done chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return notSent(ctx)
	}
}

// notSent is the error of a call whose context ended before any request
// that acts at the distributor (a checkout's POST) went out.
func notSent(ctx context.Context) *sdk.Error {
	e := sdk.TransportError(ctx, ctx.Err())
	e.Message = "before anything was ordered: " + e.Message
	return e.WithOutcome(sdk.OutcomeNotSent)
}

func sortLicences(items map[string]*publication) []*licence {
	var out []*licence
	for _, p := range items {
		out = append(out, p.licences...)
	}
	slices.SortFunc(out, func(a, b *licence) int { return strings.Compare(a.id, b.id) })
	return out
}

// readFeed reads the instance's whole feed, page after page along rel
// next, into publications by item id.
func (p *provider) readFeed(in *instance) readFunc {
	return func(ctx context.Context) (map[string]*publication, *sdk.Error) {
		items := map[string]*publication{}
		seen := map[string]bool{}
		page, pages, skipped := in.feed, 0, 0
		for page != nil {
			if seen[page.String()] {
				break // a loop of next links: the feed has been read
			}
			if pages == maxFeedPages {
				p.logger().Warn("the feed has more pages than the plugin reads; the rest is left out", "instance", in.name, "pages", pages)
				break
			}
			seen[page.String()] = true
			pages++
			a, e := in.get(ctx, page, typeOPDS, nil)
			if e != nil {
				e.Message = "reading the feed: " + e.Message
				return nil, e
			}
			pubs, next, n, err := parseFeedPage(in, a.Body, page)
			if err != nil {
				return nil, sdk.Errorf(sdk.CodeProviderError, "reading the feed: page %d is not an OPDS 2 feed with publications", pages).WithProviderCode(httpCode(a.Status))
			}
			skipped += n
			for _, pub := range pubs {
				prev := items[pub.item]
				switch {
				case prev == nil && len(items) >= maxPublications:
					p.logger().Warn("the feed has more publications than the plugin keeps; the rest is left out", "instance", in.name, "publications", len(items))
					return items, nil
				case prev == nil:
					if len(pub.licences) > maxLicencesPerTitle {
						pub.licences = pub.licences[:maxLicencesPerTitle]
					}
					items[pub.item] = pub
				default:
					// The same publication twice: one, with every licence.
					for _, l := range pub.licences {
						if len(prev.licences) < maxLicencesPerTitle && !slices.ContainsFunc(prev.licences, func(x *licence) bool { return x.id == l.id }) {
							prev.licences = append(prev.licences, l)
						}
					}
				}
			}
			page = next
		}
		if skipped > 0 {
			p.logger().Warn("feed licences without an identifier, an info document or a usable borrow link were left out", "instance", in.name, "licences", skipped)
		}
		p.logger().Debug("feed read", "instance", in.name, "pages", pages, "publications", len(items))
		return items, nil
	}
}

// publication is the publication of item in the instance's feed index.
func (p *provider) publication(ctx context.Context, in *instance, item string) (*publication, error) {
	return in.index.publication(ctx, item, p.now(), in.refresh, p.readFeed(in))
}
