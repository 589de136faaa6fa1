package host

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// Decisions where the contract is silent:
//   - Patron pseudonyms are computed by the host, so no plugin ever sees an
//     ILS patron id unless the instance sets send_patron_id: the key of
//     instance I is HMAC-SHA256(secret, "patron|"+I), the pseudonym the first
//     32 hex characters of HMAC-SHA256(key, patron id).
//   - A notification token is "<loan id>.<mac>" where mac is the base64url
//     HMAC-SHA256(secret, "notify|"+provider+"|"+loan id): the loan id makes
//     it routable, the mac unguessable.

// keys derives every HMAC the host makes from the one configured secret.
type keys struct {
	secret []byte
	// macs pools HMAC states keyed with secret: a new one hashes the key
	// again and allocates several buffers, for every signed redirect and
	// notification token. Nil (keys built by hand, in tests) makes a new
	// state per MAC.
	macs *sync.Pool
}

// newKeys returns the keys of secret, with their pool of HMAC states.
func newKeys(secret []byte) keys {
	return keys{secret: secret, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}}
}

func (k keys) mac(parts ...string) []byte {
	var m hash.Hash
	if k.macs != nil {
		m = k.macs.Get().(hash.Hash)
		defer k.macs.Put(m)
		m.Reset()
	} else {
		m = hmac.New(sha256.New, k.secret)
	}
	m.Write([]byte(strings.Join(parts, "|")))
	return m.Sum(nil)
}

// pseudonymizer computes one instance's patron pseudonyms: the first 32
// hex characters of HMAC-SHA256(HMAC-SHA256(secret, "patron|"+instance),
// patron id). The instance key is derived once; the HMAC states are pooled
// because every checkout needs one.
type pseudonymizer struct {
	pool sync.Pool // of *patronMAC
}

// patronMAC is a pooled HMAC state with buffers for the patron id and the
// sum: the HMAC has no WriteString, and both the id's conversion and a sum
// on the stack (passed to an interface) allocated every call.
type patronMAC struct {
	h   hash.Hash
	buf []byte
	sum []byte
}

func (k keys) pseudonymizer(instance string) *pseudonymizer {
	key := k.mac("patron", instance)
	return &pseudonymizer{pool: sync.Pool{New: func() any { return &patronMAC{h: hmac.New(sha256.New, key)} }}}
}

func (p *pseudonymizer) pseudonym(patron string) string {
	m := p.pool.Get().(*patronMAC)
	defer p.pool.Put(m)
	m.h.Reset()
	m.buf = append(m.buf[:0], patron...)
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], m.sum)
	return string(out[:32])
}

// contentSig is the redirect signature of api.md §4:
// base64url(HMAC-SHA256(secret, provider|loan|format|exp)).
func (k keys) contentSig(provider, loan, format string, exp int64) string {
	return base64.RawURLEncoding.EncodeToString(k.mac(provider, loan, format, strconv.FormatInt(exp, 10)))
}

// macEncoding reads signatures and tokens strictly: a non-canonical
// encoding (other bits in the last character's unused bits) is refused,
// so that exactly one string is valid for each MAC.
var macEncoding = base64.RawURLEncoding.Strict()

// checkContentSig compares in constant time; padded base64url is accepted.
func (k keys) checkContentSig(provider, loan, format string, exp int64, sig string) bool {
	got, err := macEncoding.DecodeString(strings.TrimRight(sig, "="))
	if err != nil {
		return false
	}
	return hmac.Equal(got, k.mac(provider, loan, format, strconv.FormatInt(exp, 10)))
}

// notifyToken is the per-loan token of a notification URL.
func (k keys) notifyToken(provider, loan string) string {
	return loan + "." + base64.RawURLEncoding.EncodeToString(k.mac("notify", provider, loan))
}

// loanOfToken returns the loan a token was issued for, if the token is ours.
func (k keys) loanOfToken(provider, token string) (string, bool) {
	loan, mac, ok := strings.Cut(token, ".")
	if !ok || loan == "" {
		return "", false
	}
	got, err := macEncoding.DecodeString(mac)
	if err != nil {
		return "", false
	}
	return loan, hmac.Equal(got, k.mac("notify", provider, loan))
}

func (h *Host) patronKey(in *instance, patron string) string {
	if in.cfg.SendPatronID {
		return patron
	}
	return in.patrons.pseudonym(patron)
}
