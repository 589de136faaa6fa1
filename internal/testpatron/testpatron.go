// Package testpatron computes, independently of the host, the patron
// pseudonym host/doc.go documents, so that tests can trace a distributor's
// patron id (CB's UserId, De Marque's borrower_id) back to the ILS patron
// whose request caused it.
package testpatron

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Pseudonym is patron's pseudonym at instance under the host secret: the key
// of instance I is HMAC-SHA256(secret, "patron|"+I), the pseudonym the first
// 32 hex characters of HMAC-SHA256(key, patron id).
func Pseudonym(secret, instance, patron string) string {
	k := hmac.New(sha256.New, []byte(secret))
	k.Write([]byte("patron|" + instance))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(patron))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
