package sdktest

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// Secrets (passwords, API keys, tokens) never reach a log, an error or an
// answer: the library's staff read errors, the host stores and shows loans
// and links, operators ship logs around. The kit knows the secrets of the
// run (the settings the plugin declares in Info.Secrets, every setting
// whose name says it is one, the access check's password) and looks for
// each in every answer that crosses the wire and, with a binary, in every
// line the plugin writes to its stderr.

// minSecretBytes is the shortest secret the kit looks for: a shorter value
// would turn up by chance in any text.
const minSecretBytes = 6

// secretWords are the words of a setting's name that make it a secret.
var secretWords = []string{"password", "passwd", "passphrase", "secret", "token", "key", "apikey", "credential", "credentials", "pin"}

// notSecretLast are the last words of a setting's name that make it the
// name of something else (key_id, token_url, password_file).
var notSecretLast = []string{"id", "url", "uri", "name", "path", "file", "type", "header"}

// secretName reports whether a setting's name says its value is a secret:
// one of its words (split on anything but letters and digits) is in
// secretWords and its last word is not in notSecretLast.
func secretName(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	if len(words) == 0 || slices.Contains(notSecretLast, words[len(words)-1]) {
		return false
	}
	for _, w := range words {
		if slices.Contains(secretWords, w) {
			return true
		}
	}
	return false
}

// secret is one value to look for, in the forms it may take in text.
type secret struct {
	name  string // what the kit calls it: setting "api_key"
	forms []string
}

// secretWatch finds the run's secrets in the plugin's answers and log.
type secretWatch struct {
	mu      sync.Mutex
	secrets []secret
	short   []string       // secrets too short to look for, by name
	found   map[string]int // "name in where (in check)" → count
	samples map[string]string
}

func newSecretWatch() *secretWatch {
	return &secretWatch{found: map[string]int{}, samples: map[string]string{}}
}

// add makes value, named name, a secret to look for.
func (s *secretWatch) add(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.secrets {
		if x.name == name {
			return
		}
	}
	if len(value) < minSecretBytes {
		if value != "" && !slices.Contains(s.short, name) {
			s.short = append(s.short, name)
		}
		return
	}
	forms := []string{value}
	for _, f := range []string{url.QueryEscape(value), url.PathEscape(value)} {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	s.secrets = append(s.secrets, secret{name: name, forms: forms})
}

// addSettings adds the settings that are secrets: those declared, and
// those whose name says so.
func (s *secretWatch) addSettings(settings map[string]string, declared []string) {
	for key, v := range settings {
		if secretName(key) || slices.Contains(declared, key) {
			s.add(fmt.Sprintf("setting %q", key), v)
		}
	}
}

// scan looks for every secret in texts, found in where.
func (s *secretWatch) scan(where string, texts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, text := range texts {
		if text == "" {
			continue
		}
		for _, x := range s.secrets {
			for _, f := range x.forms {
				if strings.Contains(text, f) {
					key := fmt.Sprintf("%s in %s (in %s)", x.name, where, cmpCheck())
					s.found[key]++
					if _, ok := s.samples[key]; !ok {
						s.samples[key] = s.mask(text)
					}
					break
				}
			}
		}
	}
}

// scanLine scans one log line.
func (s *secretWatch) scanLine(where, line string) { s.scan(where, line) }

// mask is text with every secret replaced by its name, cut to 300 bytes:
// the kit's report quotes where a secret was without repeating it.
func (s *secretWatch) mask(text string) string {
	for _, x := range s.secrets {
		for _, f := range x.forms {
			text = strings.ReplaceAll(text, f, "["+x.name+"]")
		}
	}
	if len(text) > 300 {
		text = strings.ToValidUTF8(text[:300], "") + "…"
	}
	return text
}

// report lists what scan found, sorted, each with a masked sample.
func (s *secretWatch) report() (found []string, short []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range s.found {
		found = append(found, fmt.Sprintf("%s, %d×: %q", k, n, s.samples[k]))
	}
	sort.Strings(found)
	return found, append([]string(nil), s.short...)
}

// cmpCheck is the running check's name, or "the start" before the first.
func cmpCheck() string {
	if c := checkName(); c != "" {
		return c
	}
	return "the start"
}

// scanAnswer looks for secrets in everything an answer of op carries to
// the host: its error's message and provider code, and every text of its
// value (loans, links, provider refs, events, licences, held loans).
func (s *secretWatch) scanAnswer(op string, v any, err error) {
	if err != nil {
		e := sdk.AsError(err)
		s.scan(op+"'s error", e.Message, e.ProviderCode)
	}
	switch a := v.(type) {
	case sdk.Loan:
		s.scanLoan(op+"'s loan", a)
	case sdk.Fulfillment:
		s.scanLinks(op+"'s links", a.Links)
	case sdk.Event:
		s.scan(op+"'s event", a.Type)
		for k, v := range a.Data {
			s.scan(op+"'s event data", k, v)
		}
	case sdk.Resolution:
		s.scanLoan(op+"'s loan", a.Loan)
	case sdk.Availability:
		for _, l := range a.Licenses {
			s.scan(op+"'s licences", l.ID, l.Format, l.Status)
		}
	case sdk.ReconcilePage:
		s.scan(op+"'s cursor", a.Next)
		for _, l := range a.Loans {
			s.scan(op+"'s held loans", l.LoanID, l.Item, l.Patron)
			for k, v := range l.ProviderRef {
				s.scan(op+"'s held loans' provider ref", k, v)
			}
		}
	}
}

func (s *secretWatch) scanLoan(where string, l sdk.Loan) {
	s.scan(where, l.Format)
	s.scanLinks(where+"'s links", l.Links)
	for k, v := range l.ProviderRef {
		s.scan(where+"'s provider ref", k, v)
	}
}

func (s *secretWatch) scanLinks(where string, ls []sdk.Link) {
	for _, l := range ls {
		s.scan(where, l.Href, l.Name, l.Format, l.Rel, l.Type)
	}
}

// maxSecretFindings bounds the findings a failure lists.
const maxSecretFindings = 10

// checkSecrets fails, once, listing where the run's secrets turned up in
// an answer or the log.
func (k *kit) checkSecrets(t *testing.T) {
	found, short := k.secrets.report()
	if len(short) > 0 {
		t.Logf("not looked for, shorter than %d bytes: %s; give the kit test secrets at least that long", minSecretBytes, strings.Join(short, ", "))
	}
	if len(found) > 0 {
		more := ""
		if len(found) > maxSecretFindings {
			more = fmt.Sprintf("\n\t… and %d more", len(found)-maxSecretFindings)
			found = found[:maxSecretFindings]
		}
		t.Errorf("a secret reached what the library or the logs see (quoted with the secret replaced by its name):\n\t%s%s\n"+
			"Fix: never put a setting's secret value (or the patron's password) in an error message, a link, a provider ref, an event or "+
			"a log line; name the setting instead. sdk.Exchange.Secrets removes them from what the distributor echoes; declare such "+
			"settings in Info.Secrets", strings.Join(found, "\n\t"), more)
		return
	}
	if k.secrets.count() == 0 && len(short) == 0 {
		t.Skip("no setting is a secret (declared in Info.Secrets, or named like a password, key or token), and Config.Access has no password")
	}
}

// count is the number of secrets looked for.
func (s *secretWatch) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secrets)
}
