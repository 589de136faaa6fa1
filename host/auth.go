package host

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// Decisions where the contract is silent:
//   - Authorization's scheme matches "Bearer" in any case, followed by one
//     or more spaces; secret must have at least 32 bytes (New refuses less).

// Authenticator decides who may call the API. admin is true for the admin
// endpoints. Return an *Error with CodeUnauthorized or CodeForbidden to
// refuse. Embedders can plug in their own (e.g. an ILS session check).
type Authenticator interface {
	Authenticate(r *http.Request, admin bool) error
}

// KeyAuthenticator checks "Authorization: Bearer <key>" against the
// configured API keys, and admin keys for the admin endpoints, in constant
// time. The scheme matches in any case (RFC 9110 §11.1: "bearer" is
// "Bearer").
type KeyAuthenticator struct {
	api, admin [][32]byte
}

// NewKeyAuthenticator returns a KeyAuthenticator for the given keys. Keys
// are kept only as SHA-256 digests.
func NewKeyAuthenticator(apiKeys, adminKeys []string) *KeyAuthenticator {
	a := &KeyAuthenticator{}
	for _, k := range apiKeys {
		if k != "" {
			a.api = append(a.api, sha256.Sum256([]byte(k)))
		}
	}
	for _, k := range adminKeys {
		if k != "" {
			a.admin = append(a.admin, sha256.Sum256([]byte(k)))
		}
	}
	return a
}

// Authenticate implements Authenticator.
func (a *KeyAuthenticator) Authenticate(r *http.Request, admin bool) error {
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return sdk.Errorf(sdk.CodeUnauthorized, "missing API key (Authorization: Bearer <key>)")
	}
	// Comparing digests keeps the compare constant-time whatever the
	// lengths, and every key is compared so timing does not tell which.
	d := sha256.Sum256([]byte(tok))
	match := func(keys [][32]byte) bool {
		found := 0
		for _, k := range keys {
			found |= subtle.ConstantTimeCompare(d[:], k[:])
		}
		return found == 1
	}
	if admin {
		if match(a.admin) {
			return nil
		}
		if match(a.api) {
			return sdk.Errorf(sdk.CodeForbidden, "this endpoint needs an admin key")
		}
		return sdk.Errorf(sdk.CodeUnauthorized, "invalid admin key")
	}
	if match(a.api) {
		return nil
	}
	return sdk.Errorf(sdk.CodeUnauthorized, "invalid API key")
}

// bearerToken returns the credentials of a Bearer Authorization header:
// the scheme in any case, then one or more spaces, then a non-empty token.
func bearerToken(header string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok := strings.TrimSpace(rest)
	return tok, tok != ""
}
