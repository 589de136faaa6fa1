package host

import (
	"cmp"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - Links are http or https, the scheme read case-insensitively as a
//     browser does; an href with control characters is dropped too (browsers
//     strip tabs and newlines, making "java\tscript:" a scheme). An answer
//     keeps at most 32 links, each href at most 8 KiB; format, rel, type and
//     name are cut to 200 bytes. Dropped links are logged at warn with their
//     scheme and length only, and counted in
//     lendgate_links_dropped_total{provider}.
//   - A link's type (its media type, when the distributor says) is passed
//     on as given, cut to 200 bytes like its format, rel and name; rel is
//     content when the plugin leaves it empty.

// Links are http or https (api.md §7): a distributor's link of any other
// scheme (javascript:, data:, file:, …) would run in the ILS's page or the
// patron's browser, so it never reaches a Loan, a Fulfillment or a Location.
// Malformed http(s) hrefs (eHUB's seed "http:/localhost:…") pass verbatim:
// the host checks the scheme, not the distributor's URL grammar.

const (
	// maxLinks bounds the links of one answer.
	maxLinks = 32
	// maxHrefBytes bounds one link (signed CDN links run to a few hundred
	// bytes; 8 KiB is what common servers accept in a request line).
	maxHrefBytes = 8 << 10
	// maxLinkText bounds a link's format, rel and name.
	maxLinkText = 200
)

// linkScheme returns href's scheme in lower case, as a browser would read
// it ("" when there is none).
func linkScheme(href string) string {
	scheme, _, ok := strings.Cut(href, ":")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme)
}

// linkProblem says why a link must not be handed on ("" when it may).
func linkProblem(l sdk.Link) string {
	switch s := linkScheme(l.Href); {
	case s != "http" && s != "https":
		return "scheme is not http or https"
	case len(l.Href) > maxHrefBytes:
		return "href is too long"
	case hasControl(l.Href):
		// Browsers strip tabs and newlines from URLs, which makes
		// "java\tscript:" a scheme of its own; no URL needs them.
		return "href has control characters"
	}
	return ""
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// safeHref reports whether href may be sent to a browser as a Location.
func safeHref(href string) bool { return linkProblem(sdk.Link{Href: href}) == "" }

// linksFromSDK converts a plugin's links for the API, keeping only those
// that may be handed on (the plugin guard has already logged and counted
// what it dropped; this is the last line for any path around it).
func linksFromSDK(ls []sdk.Link) []Link {
	out := make([]Link, 0, min(len(ls), maxLinks))
	for _, l := range ls {
		if len(out) == maxLinks {
			break
		}
		if linkProblem(l) != "" {
			continue
		}
		out = append(out, Link{Format: clipText(l.Format, maxLinkText), Rel: cmp.Or(clipText(l.Rel, maxLinkText), sdk.RelContent),
			Href: l.Href, Type: clipText(l.Type, maxLinkText), Name: clipText(l.Name, maxLinkText), ExpiresAt: timePtr(l.ExpiresAt)})
	}
	return out
}

// clipText cuts a plugin's text to n bytes on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
