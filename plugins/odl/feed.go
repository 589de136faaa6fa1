package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// relBorrow is the borrow link's relation.
const relBorrow = "http://opds-spec.org/acquisition/borrow"

// rels is a link's rel: a string or an array of strings (both are seen).
type rels []string

func (r *rels) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*r = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*r = many
	return nil
}

func (r rels) has(rel string) bool {
	for _, x := range r {
		if x == rel {
			return true
		}
	}
	return false
}

// linkDoc is a link of OPDS 2 or LSD.
type linkDoc struct {
	Rel       rels   `json:"rel"`
	Href      string `json:"href"`
	Type      string `json:"type"`
	Templated bool   `json:"templated"`
}

// templated reports whether the href is a URI template: said so, or with
// an expression in it (a server that forgot "templated").
func (l linkDoc) templated() bool { return l.Templated || strings.Contains(l.Href, "{") }

// mediaType is l's type without parameters, lower case.
func (l linkDoc) mediaType() string {
	t, _, _ := strings.Cut(l.Type, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// termsDoc is a licence's terms. Numbers are read leniently (a float, a
// string of digits): the distributor's feed is not ours to refuse.
type termsDoc struct {
	Checkouts   json.RawMessage `json:"checkouts"`
	Expires     string          `json:"expires"`
	Concurrency json.RawMessage `json:"concurrency"`
	Length      json.RawMessage `json:"length"`
}

// terms are a licence's terms as the plugin uses them.
type terms struct {
	// checkouts and concurrency are sdk.Unlimited when absent.
	checkouts, concurrency int
	expires                time.Time
	length                 time.Duration
}

func (t termsDoc) terms() terms {
	out := terms{checkouts: count(t.Checkouts), concurrency: count(t.Concurrency), expires: parseTime(t.Expires)}
	if n := count(t.Length); n > 0 {
		out.length = time.Duration(min(int64(n), int64(math.MaxInt64/int64(time.Second)))) * time.Second
	}
	return out
}

// count reads a non-negative count; sdk.Unlimited when absent, null,
// negative or unreadable.
func count(raw json.RawMessage) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return sdk.Unlimited
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil || json.Unmarshal([]byte(s), &f) != nil {
			return sdk.Unlimited
		}
	}
	if f < 0 || math.IsNaN(f) || f > math.MaxInt32 {
		return sdk.Unlimited
	}
	return int(f)
}

// timeLayouts are the ISO 8601 forms read in feeds, info documents and
// LSDs.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05Z07:00", "2006-01-02"}

// parseTime reads an ISO 8601 date; zero when it is none of timeLayouts.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// feedDoc is one page of an OPDS 2 feed with licences.
type feedDoc struct {
	Links        []linkDoc `json:"links"`
	Publications []struct {
		Metadata struct {
			Identifier string `json:"identifier"`
		} `json:"metadata"`
		Licenses []struct {
			Metadata struct {
				Identifier string   `json:"identifier"`
				Format     string   `json:"format"`
				Terms      termsDoc `json:"terms"`
			} `json:"metadata"`
			Links []linkDoc `json:"links"`
		} `json:"licenses"`
	} `json:"publications"`
}

// publication is a feed's publication with the licences the plugin can
// use.
type publication struct {
	item       string // the item id: ISBN-13, or the identifier
	identifier string
	licences   []*licence
}

// licence is one licence of a publication.
type licence struct {
	id     string
	format string // media type
	item   string
	terms  terms
	info   *url.URL // License Info Document
	borrow linkDoc  // absolute href
}

// errNoPublications is a feed page that is not an OPDS 2 feed.
var errNoPublications = errors.New("not an OPDS 2 feed with publications")

// parseFeedPage reads one feed page fetched from page: its publications
// (licences whose links are missing or refused by in.link are left out,
// and counted in skipped) and the next page (nil after the last).
func parseFeedPage(in *instance, body []byte, page *url.URL) (pubs []*publication, next *url.URL, skipped int, err error) {
	var doc feedDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, 0, err
	}
	if doc.Publications == nil && !hasRel(doc.Links, "next") {
		// An empty last page may omit publications; a page with neither
		// is something else.
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) != nil || probe["publications"] == nil {
			return nil, nil, 0, errNoPublications
		}
	}
	for _, l := range doc.Links {
		if l.Rel.has("next") && !l.templated() {
			if u, ok := in.link(l.Href, page); ok {
				next = u
			}
			break
		}
	}
	for _, p := range doc.Publications {
		id := strings.TrimSpace(p.Metadata.Identifier)
		if id == "" {
			skipped += len(p.Licenses)
			continue
		}
		pub := &publication{item: itemID(id), identifier: id}
		for _, l := range p.Licenses {
			lic := &licence{id: l.Metadata.Identifier, format: strings.ToLower(strings.TrimSpace(l.Metadata.Format)), item: pub.item, terms: l.Metadata.Terms.terms()}
			for _, ln := range l.Links {
				switch {
				case ln.Rel.has(relBorrow) && lic.borrow.Href == "":
					if u, ok := in.link(templateBase(ln.Href), page); ok {
						lic.borrow = ln
						lic.borrow.Href = u.String() + templateTail(ln.Href)
					}
				case ln.Rel.has("self") && lic.info == nil:
					if u, ok := in.link(ln.Href, page); ok {
						lic.info = u
					}
				}
			}
			if lic.id == "" || lic.info == nil || lic.borrow.Href == "" {
				skipped++
				continue
			}
			pub.licences = append(pub.licences, lic)
		}
		pubs = append(pubs, pub)
	}
	return pubs, next, skipped, nil
}

func hasRel(links []linkDoc, rel string) bool {
	for _, l := range links {
		if l.Rel.has(rel) {
			return true
		}
	}
	return false
}

// templateBase is a template's href up to its first expression, which is
// resolved and checked as a URL; templateTail is the rest, kept as it is.
func templateBase(href string) string {
	if i := strings.IndexByte(href, '{'); i >= 0 {
		return href[:i]
	}
	return href
}

func templateTail(href string) string {
	if i := strings.IndexByte(href, '{'); i >= 0 {
		return href[i:]
	}
	return ""
}

// itemID is the item id of a publication identifier: the ISBN-13 of a
// urn:isbn (an ISBN-10 converted, hyphens dropped), else the identifier
// itself.
func itemID(identifier string) string {
	if rest, ok := cutPrefixFold(identifier, "urn:isbn:"); ok {
		if n, err := isbn.Normalize(rest); err == nil {
			return n
		}
	}
	return identifier
}

// itemKeys are the keys a caller's item id may match in the index: as
// given, and, for an ISBN written otherwise (urn:isbn:…, ISBN-10,
// hyphens), its ISBN-13.
func itemKeys(item string) []string {
	keys := []string{item}
	rest, _ := cutPrefixFold(item, "urn:isbn:")
	if n, err := isbn.Normalize(rest); err == nil && n != item {
		keys = append(keys, n)
	}
	return keys
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// formatOf is the loan format of a licence's media type: epub, pdf or
// audiobook, else the media type itself.
func formatOf(mediaType string) string {
	switch mediaType {
	case sdk.MediaTypeEPUB, "application/epub+zip;profile=lcp":
		return formatEPUB
	case sdk.MediaTypePDF, "application/pdf+lcp":
		return formatPDF
	case sdk.MediaTypeAudiobookManifest, "application/audiobook+zip", "application/audiobook+lcp", "application/vnd.readium.lcp.audiobook+zip":
		return formatAudiobook
	}
	return mediaType
}
