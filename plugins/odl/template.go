package main

import (
	"net/url"
	"slices"

	"github.com/yosida95/uritemplate/v3"
)

// requiredIfPresent are the borrow template's variables that the plugin
// refuses to leave empty when the template has them. ODL 1.0 §5.2 requires
// expires, passphrase, hint and hint_url when present; expires is always
// filled, and a missing hint or hint_url is left for the distributor to
// refuse (checkout/hint, checkout/hint_url: invalid_request), since many
// accept a loan without them. The passphrase is the patron's: without it
// the loan could never be opened.
var requiredIfPresent = []string{"expires", "passphrase"}

// expandLink fills a link's href with vars: an RFC 6570 template (levels 1
// to 4) is expanded, variables it does not name are left out and empty
// values are not set; a plain href (templated false and no expression)
// gets the non-empty vars added to its query, in vars' key order. missing
// lists the variables of requiredIfPresent the template has and vars
// leave empty. hasVar reports, for the caller, which variables the
// template has.
func expandLink(l linkDoc, vars map[string]string) (target *url.URL, missing []string, hasVar func(string) bool, err error) {
	if !l.templated() {
		u, err := url.Parse(l.Href)
		if err != nil {
			return nil, nil, nil, err
		}
		q := u.Query()
		for _, k := range sortedKeys(vars) {
			if vars[k] != "" {
				q.Set(k, vars[k])
			}
		}
		u.RawQuery = q.Encode()
		return u, nil, func(name string) bool { return vars[name] != "" }, nil
	}
	t, err := uritemplate.New(l.Href)
	if err != nil {
		return nil, nil, nil, err
	}
	names := t.Varnames()
	has := func(name string) bool { return slices.Contains(names, name) }
	values := uritemplate.Values{}
	for _, name := range names {
		v := vars[name]
		if v == "" {
			if slices.Contains(requiredIfPresent, name) {
				missing = append(missing, name)
			}
			continue
		}
		values.Set(name, uritemplate.String(v))
	}
	s, err := t.Expand(values)
	if err != nil {
		return nil, missing, has, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, missing, has, err
	}
	return u, missing, has, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lsdLinkURL fills an LSD interaction link (return, renew): a template
// with vars, a plain href as it is (the server then decides, e.g. the
// renewal's length).
func lsdLinkURL(l linkDoc, vars map[string]string) (*url.URL, error) {
	if !l.templated() {
		return url.Parse(l.Href)
	}
	u, _, _, err := expandLink(l, vars)
	return u, err
}
