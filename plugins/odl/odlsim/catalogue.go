package odlsim

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The test catalogue's items (what the plugin calls an item: the ISBN-13
// of a urn:isbn identifier, else the identifier), each with its licences.
// Every ISBN has a valid check digit.
const (
	// ISBNAvailable: one EPUB licence, time-limited (two years), 50 at
	// once, loans of at most 60 days; its template has no passphrase or
	// hint.
	ISBNAvailable = "9780000000019"
	// ISBNLCP: one EPUB licence whose template asks for passphrase, hint
	// and hint_url; 50 checkouts, 10 at once.
	ISBNLCP = "9780000000026"
	// ISBNMulti: four EPUB licences of one copy each, in the feed in this
	// order: count-limited, time-and-count, perpetual, time-limited.
	ISBNMulti = "9780000000033"
	// ISBNOneCopy: one licence, one copy at once, 3 checkouts in all,
	// loans of at most 14 days.
	ISBNOneCopy = "9780000000040"
	// ISBNExhausted: a licence whose 2 checkouts are used up.
	ISBNExhausted = "9780000000057"
	// ISBNExpired: a licence that expired a day before the simulator
	// started.
	ISBNExpired = "9780000000064"
	// ISBNPreorder: a licence in preorder.
	ISBNPreorder = "9780000000071"
	// ISBNAudiobook: an audiobook (application/audiobook+json); its LSDs
	// have a manifest link.
	ISBNAudiobook = "9780000000088"
	// ISBNNoRenew: the LSDs' only renew link is a text/html page.
	ISBNNoRenew = "9780000000095"
	// ISBNNoReturn: the LSDs have no return link.
	ISBNNoReturn = "9780000000101"
	// ItemUUID: a publication without an ISBN; its DRM-free licence's
	// template has no expires (the loan ends after DefaultLoanLength), and
	// its LSDs link the publication itself.
	ItemUUID = "urn:uuid:5b3c0f6e-8d2a-4c1b-9f47-2e6a1d0c9b01"
	// ISBNUnlimited: a perpetual licence with no limit at all.
	ISBNUnlimited = "9780000000125"
	// ISBNUnknown has a valid check digit and is in no feed.
	ISBNUnknown = "9780000000132"
)

// The test catalogue's licence identifiers.
const (
	LicenseAvailable      = "urn:uuid:0d1f0000-0000-4000-8000-000000000001"
	LicenseLCP            = "urn:uuid:0d1f0000-0000-4000-8000-000000000002"
	LicenseMultiCount     = "urn:uuid:0d1f0000-0000-4000-8000-000000000031"
	LicenseMultiBoth      = "urn:uuid:0d1f0000-0000-4000-8000-000000000032"
	LicenseMultiPerpetual = "urn:uuid:0d1f0000-0000-4000-8000-000000000033"
	LicenseMultiTime      = "urn:uuid:0d1f0000-0000-4000-8000-000000000034"
	LicenseOneCopy        = "urn:uuid:0d1f0000-0000-4000-8000-000000000004"
	LicenseExhausted      = "urn:uuid:0d1f0000-0000-4000-8000-000000000005"
	LicenseExpired        = "urn:uuid:0d1f0000-0000-4000-8000-000000000006"
	LicensePreorder       = "urn:uuid:0d1f0000-0000-4000-8000-000000000007"
	LicenseAudiobook      = "urn:uuid:0d1f0000-0000-4000-8000-000000000008"
	LicenseNoRenew        = "urn:uuid:0d1f0000-0000-4000-8000-000000000009"
	LicenseNoReturn       = "urn:uuid:0d1f0000-0000-4000-8000-000000000010"
	LicenseOpen           = "urn:uuid:0d1f0000-0000-4000-8000-000000000011"
	LicenseUnlimited      = "urn:uuid:0d1f0000-0000-4000-8000-000000000012"
)

// Publication is one publication of the feed.
type Publication struct {
	// Identifier is metadata.identifier ("urn:isbn:…" or any URI).
	Identifier string
	Title      string
	Licenses   []License
}

// License is one licence the library holds, with its terms (a zero term
// sets no limit) and how its links look.
type License struct {
	ID      string
	Format  string // the publication's media type
	Created time.Time
	// Checkouts is how many checkouts the licence allows in all (0: no
	// limit); Used of them were made before the simulator started.
	Checkouts, Used int
	// Expires is when the licence ends (zero: perpetual).
	Expires time.Time
	// Concurrency is how many loans may run at once (0: no limit).
	Concurrency int
	// Length is the longest loan (0: no limit).
	Length time.Duration
	// Status is "" (available, as the counts say), "preorder" or
	// "unavailable".
	Status string

	// Passphrase puts passphrase, hint and hint_url in the borrow
	// template (all then required).
	Passphrase bool
	// NoExpires leaves expires out of the borrow template.
	NoExpires bool
	// RenewHTML makes the LSDs' renew link a text/html page for people.
	RenewHTML bool
	// NoReturn leaves the return link out of the LSDs.
	NoReturn bool
	// Publication puts a publication link (the file itself) in the LSDs.
	Publication bool
}

// Catalogue is the test catalogue, with dates relative to now (see the
// package doc).
func Catalogue(now time.Time) []Publication {
	now = now.UTC().Truncate(time.Second)
	created := now.Add(-30 * 24 * time.Hour)
	year := 365 * 24 * time.Hour
	day := 24 * time.Hour
	epub := func(id string) License { return License{ID: id, Format: TypeEPUB, Created: created} }
	isbn := func(s string) string { return "urn:isbn:" + s }

	available := epub(LicenseAvailable)
	available.Expires, available.Concurrency, available.Length = now.Add(2*year), 50, 60*day
	lcp := epub(LicenseLCP)
	lcp.Checkouts, lcp.Concurrency, lcp.Passphrase = 50, 10, true
	count := epub(LicenseMultiCount)
	count.Checkouts, count.Concurrency = 10, 1
	both := epub(LicenseMultiBoth)
	both.Checkouts, both.Expires, both.Concurrency = 20, now.Add(year), 1
	perpetual := epub(LicenseMultiPerpetual)
	perpetual.Concurrency = 1
	timed := epub(LicenseMultiTime)
	timed.Expires, timed.Concurrency = now.Add(year), 1
	one := epub(LicenseOneCopy)
	one.Checkouts, one.Concurrency, one.Expires, one.Length = 3, 1, now.Add(year), 14*day
	exhausted := epub(LicenseExhausted)
	exhausted.Checkouts, exhausted.Used, exhausted.Concurrency = 2, 2, 2
	expired := epub(LicenseExpired)
	expired.Expires, expired.Concurrency = now.Add(-day), 5
	preorder := epub(LicensePreorder)
	preorder.Status, preorder.Concurrency = "preorder", 5
	audio := License{ID: LicenseAudiobook, Format: TypeAudiobook, Created: created, Expires: now.Add(2 * year), Concurrency: 5, Length: 30 * day}
	noRenew := epub(LicenseNoRenew)
	noRenew.Concurrency, noRenew.RenewHTML = 5, true
	noReturn := epub(LicenseNoReturn)
	noReturn.Concurrency, noReturn.NoReturn = 5, true
	open := epub(LicenseOpen)
	open.Concurrency, open.NoExpires, open.Publication = 5, true, true
	unlimited := epub(LicenseUnlimited)

	return []Publication{
		{Identifier: isbn(ISBNAvailable), Title: "A Book Anyone May Borrow", Licenses: []License{available}},
		{Identifier: isbn(ISBNLCP), Title: "A Book Behind a Passphrase", Licenses: []License{lcp}},
		{Identifier: isbn(ISBNMulti), Title: "A Book of Four Licences", Licenses: []License{count, both, perpetual, timed}},
		{Identifier: isbn(ISBNOneCopy), Title: "A Book of One Copy", Licenses: []License{one}},
		{Identifier: isbn(ISBNExhausted), Title: "A Book Read Out", Licenses: []License{exhausted}},
		{Identifier: isbn(ISBNExpired), Title: "A Book Whose Licence Ended", Licenses: []License{expired}},
		{Identifier: isbn(ISBNPreorder), Title: "A Book Not Out Yet", Licenses: []License{preorder}},
		{Identifier: isbn(ISBNAudiobook), Title: "A Book to Listen To", Licenses: []License{audio}},
		{Identifier: isbn(ISBNNoRenew), Title: "A Book Renewed by Hand", Licenses: []License{noRenew}},
		{Identifier: isbn(ISBNNoReturn), Title: "A Book Kept to the End", Licenses: []License{noReturn}},
		{Identifier: ItemUUID, Title: "A Book Without an ISBN", Licenses: []License{open}},
		{Identifier: isbn(ISBNUnlimited), Title: "A Book Without Limits", Licenses: []License{unlimited}},
	}
}

// publication is a Publication as the simulator keeps it.
type publication struct {
	identifier, title string
	licenses          []*license
}

// license is a License with its counts.
type license struct {
	License
	pub    *publication
	left   int              // checkouts left; -1: no limit
	active map[string]*loan // running loans (ready or active), by LSD id
}

// addPublication adds p (and its licences). Call with s.mu held.
func (s *Sim) addPublication(p Publication) *publication {
	pub := &publication{identifier: p.Identifier, title: p.Title}
	s.pubs = append(s.pubs, pub)
	s.byItem[itemOf(p.Identifier)] = pub
	for _, l := range p.Licenses {
		s.addLicense(pub, l)
	}
	return pub
}

func (s *Sim) addLicense(pub *publication, l License) {
	left := -1
	if l.Checkouts > 0 {
		left = max(0, l.Checkouts-l.Used)
	}
	lic := &license{License: l, pub: pub, left: left, active: map[string]*loan{}}
	pub.licenses = append(pub.licenses, lic)
	s.licenses[l.ID] = lic
}

// AddLicense adds licence l to the publication of item (an ISBN-13 or an
// identifier), as a library's new purchase; a publication the feed does
// not have yet is added with it (identifier urn:isbn:item for an
// all-digit item).
func (s *Sim) AddLicense(item string, l License) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pub, ok := s.byItem[item]
	if !ok {
		id := item
		if allDigits(item) {
			id = "urn:isbn:" + item
		}
		pub = s.addPublication(Publication{Identifier: id, Title: "A Book Bought Today"})
	}
	s.addLicense(pub, l)
	s.signalLocked()
}

// itemOf is the item id of an identifier: the digits of a urn:isbn, else
// the identifier.
func itemOf(identifier string) string {
	if rest, ok := strings.CutPrefix(identifier, "urn:isbn:"); ok {
		return strings.ReplaceAll(rest, "-", "")
	}
	return identifier
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// link is an OPDS/LSD link; Rel is a string, or an array with
// WithArrayRels.
type link struct {
	Rel       any    `json:"rel"`
	Href      string `json:"href"`
	Type      string `json:"type,omitempty"`
	Templated bool   `json:"templated,omitempty"`
}

func (s *Sim) link(rel, href, typ string, templated bool) link {
	var r any = rel
	if s.arrayRels {
		r = []string{rel}
	}
	return link{Rel: r, Href: href, Type: typ, Templated: templated}
}

// feed answers one page of the OPDS 2 feed.
func (s *Sim) feed(w http.ResponseWriter, r *http.Request) {
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeProblem(w, http.StatusBadRequest, TypeGeneric, "Bad page", "page must be a positive integer")
			return
		}
		page = n
	}
	base := s.base(r)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	total := len(s.pubs)
	from := min((page-1)*s.pageSize, total)
	to := min(from+s.pageSize, total)
	pageURL := func(n int) string { return base + "/feed?page=" + strconv.Itoa(n) }
	links := []link{s.link("self", pageURL(page), TypeOPDS, false)}
	if to < total {
		links = append(links, s.link("next", pageURL(page+1), TypeOPDS, false))
	}
	pubs := make([]map[string]any, 0, to-from)
	for _, p := range s.pubs[from:to] {
		pubs = append(pubs, s.publicationJSON(base, p, now))
	}
	writeJSON(w, http.StatusOK, TypeOPDS, map[string]any{
		"metadata":     map[string]any{"title": "odlsim", "itemsPerPage": s.pageSize, "currentPage": page, "numberOfItems": total},
		"links":        links,
		"publications": pubs,
	})
}

func (s *Sim) publicationJSON(base string, p *publication, now time.Time) map[string]any {
	lics := make([]map[string]any, 0, len(p.licenses))
	for _, l := range p.licenses {
		meta := map[string]any{"identifier": l.ID, "format": l.Format, "created": l.Created.UTC().Format(time.RFC3339)}
		if t := terms(l); len(t) > 0 {
			meta["terms"] = t
		}
		if !l.Publication {
			meta["protection"] = map[string]any{"format": []string{TypeLCPLicense}, "devices": 6, "copy": false, "print": false, "tts": true}
		}
		lics = append(lics, map[string]any{
			"metadata": meta,
			"links": []link{
				s.link(RelBorrow, base+"/checkout"+borrowVars(l.License), TypeLSD, true),
				s.link("self", base+"/licenses/"+url.PathEscape(l.ID)+"/info", TypeInfo, false),
			},
		})
	}
	return map[string]any{
		"metadata": map[string]any{"@type": "http://schema.org/Book", "identifier": p.identifier, "title": p.title,
			"language": "en", "modified": now.UTC().Format(time.RFC3339)},
		"links":    []link{s.link("self", base+"/publications/"+url.PathEscape(itemOf(p.identifier)), "application/opds-publication+json", false)},
		"licenses": lics,
	}
}

// borrowVars is the borrow template's query expression for l.
func borrowVars(l License) string {
	vars := []string{"id", "checkout_id"}
	if !l.NoExpires {
		vars = append(vars, "expires")
	}
	vars = append(vars, "patron_id")
	if l.Passphrase {
		vars = append(vars, "passphrase", "hint", "hint_url")
	}
	vars = append(vars, "notification_url")
	return "{?" + strings.Join(vars, ",") + "}"
}

// terms is l's terms object (only the terms it sets).
func terms(l *license) map[string]any {
	t := map[string]any{}
	if l.Checkouts > 0 {
		t["checkouts"] = l.Checkouts
	}
	if !l.Expires.IsZero() {
		t["expires"] = l.Expires.UTC().Format(time.RFC3339)
	}
	if l.Concurrency > 0 {
		t["concurrency"] = l.Concurrency
	}
	if l.Length > 0 {
		t["length"] = int64(l.Length / time.Second)
	}
	return t
}

// unlimitedCount is what the simulator writes for a count that sets no
// limit (a left or available of a licence without that term).
const unlimitedCount = math.MaxInt32

// statusOf is the licence's status now. Call with s.mu held.
func (l *license) statusOf(now time.Time) string {
	switch {
	case l.Status != "":
		return l.Status
	case !l.Expires.IsZero() && !now.Before(l.Expires), l.left == 0:
		return "unavailable"
	}
	return "available"
}

// availableNow is how many loans may start now. Call with s.mu held.
func (l *license) availableNow(now time.Time) int {
	if l.statusOf(now) != "available" {
		return 0
	}
	n := unlimitedCount
	if l.Concurrency > 0 {
		n = max(0, l.Concurrency-len(l.active))
	}
	if l.left >= 0 {
		n = min(n, l.left)
	}
	return n
}

// info answers a License Info Document.
func (s *Sim) info(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.licenses[id]
	if !ok {
		writeProblem(w, http.StatusNotFound, TypeGeneric, "Not found", "no such licence")
		return
	}
	s.sweepLicense(l, now)
	checkouts := map[string]any{"available": l.availableNow(now)}
	switch {
	case l.left >= 0:
		checkouts["left"] = l.left
	case !s.infoVariant:
		checkouts["left"] = unlimitedCount
	}
	patronKey := "patron_id"
	if s.infoVariant {
		patronKey = "patron"
	}
	active := []map[string]any{}
	for _, ln := range sortedLoans(l.active) {
		active = append(active, map[string]any{"id": ln.checkoutID, patronKey: ln.patron,
			"expires": ln.end.UTC().Format(time.RFC3339), "href": s.statusURL(base, ln)})
	}
	if len(active) > 0 || !s.infoVariant {
		checkouts["active"] = active
	}
	doc := map[string]any{"identifier": l.ID, "status": l.statusOf(now), "checkouts": checkouts,
		"format": l.Format, "created": l.Created.UTC().Format(time.RFC3339)}
	if t := terms(l); len(t) > 0 {
		doc["terms"] = t
	}
	writeJSON(w, http.StatusOK, TypeInfo, doc)
}
