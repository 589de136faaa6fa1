package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Codes the connector acts on besides mapping them.
const (
	// ebsUserUnknown is checkAccess's "user unknown": no access, not an error.
	ebsUserUnknown = "EBS-10038"
	// ebsDuplicate is placeOrder's "this OrderReference has already been used".
	ebsDuplicate = "EBS-10005"
	// ebsNoPrice is "ordered, but no price available yet": come back at the
	// next midnight in Amsterdam.
	ebsNoPrice = "EBS-10060"
)

// errorTable is providers.md's error table for CB. An EBS code it does not
// list is a provider_error that keeps its code; an answer without an EBS
// message is judged by its status: 401 and 403 mean CB refused the
// instance's credentials, 429 is try_later for the whole instance, a 503 is
// a provider_error, Retry-After or not (OnlyTryLaterPauses).
var errorTable = sdk.ErrorTable{
	Decode:             decodeError,
	OnlyTryLaterPauses: true,
	Codes: map[string]sdk.Code{
		"EBS-00001":    sdk.CodeProviderError,
		"EBS-10003":    sdk.CodeItemNotFound,
		"EBS-10004":    sdk.CodeNotAvailable,
		ebsDuplicate:   sdk.CodeDuplicateReference,
		"EBS-10006":    sdk.CodeNotAvailable,
		"EBS-10017":    sdk.CodeLimitReached,
		"EBS-10034":    sdk.CodeNotAvailable,
		ebsUserUnknown: sdk.CodePatronRejected,
		"EBS-10043":    sdk.CodeUnsupportedCombination,
		"EBS-10045":    sdk.CodeNotAvailable,
		"EBS-10046":    sdk.CodeUnsupportedCombination,
		"EBS-10053":    sdk.CodeLoanNotFound,
		"EBS-10054":    sdk.CodePatronMismatch,
		ebsNoPrice:     sdk.CodeTryLater,
		// EBS-10063 … 10075: a mandatory field missing or malformed.
		"EBS-10063": sdk.CodeInvalidRequest, "EBS-10064": sdk.CodeInvalidRequest, "EBS-10065": sdk.CodeInvalidRequest,
		"EBS-10066": sdk.CodeInvalidRequest, "EBS-10067": sdk.CodeInvalidRequest, "EBS-10068": sdk.CodeInvalidRequest,
		"EBS-10069": sdk.CodeInvalidRequest, "EBS-10070": sdk.CodeInvalidRequest, "EBS-10071": sdk.CodeInvalidRequest,
		"EBS-10072": sdk.CodeInvalidRequest, "EBS-10073": sdk.CodeInvalidRequest, "EBS-10074": sdk.CodeInvalidRequest,
		"EBS-10075": sdk.CodeInvalidRequest,
	},
	Statuses: map[int]sdk.Code{
		http.StatusUnauthorized:       sdk.CodeProviderCredentials,
		http.StatusForbidden:          sdk.CodeProviderCredentials,
		http.StatusServiceUnavailable: sdk.CodeProviderError,
	},
	// No price for one title yet says nothing of the others: its pause
	// (api.md §7) is the request's, not the instance's.
	PerRequest: []string{ebsNoPrice},
}

// ebsTexts stand in when CB sends a code without MessageText.
var ebsTexts = map[string]string{
	"EBS-00001":    "something went wrong, the order is not fulfilled",
	"EBS-10003":    "a product with this EAN is not available",
	"EBS-10004":    "this product is not available for delivery",
	ebsDuplicate:   "this OrderReference has already been used",
	"EBS-10006":    "this product cannot be ordered yet",
	"EBS-10017":    "the credit limit has been exceeded",
	"EBS-10034":    "not available for the given reading method",
	ebsUserUnknown: "user unknown",
	"EBS-10043":    "the combination of ReadingMethod and Protection is not allowed",
	"EBS-10045":    "no valid licence model found for this order",
	"EBS-10046":    "for licence models Shoulder and Tail the rental period has to be 3 weeks",
	"EBS-10053":    "referenced order not found",
	"EBS-10054":    "referenced order is not for the same UserId",
	ebsNoPrice:     "ordered, but no price available yet: try again tomorrow",
}

// ebsMessage is CB's error message, in any answer.
type ebsMessage struct {
	MessageType string `json:"MessageType"`
	MessageCode string `json:"MessageCode"`
	MessageText string `json:"MessageText"`
}

// decodeError reads CB's {"Message": {"MessageCode", "MessageText"}}. A body
// without one gives nothing, and the status decides.
func decodeError(body []byte) (providerCode, message string) {
	var env struct {
		Message *ebsMessage `json:"Message"`
	}
	if json.Unmarshal(body, &env) != nil || env.Message == nil || env.Message.MessageCode == "" {
		return "", ""
	}
	m := env.Message
	if m.MessageText == "" {
		return m.MessageCode, ebsTexts[m.MessageCode]
	}
	return m.MessageCode, m.MessageText
}

// ebsError adds to e what the table cannot say: EBS-10060's pause runs to
// the next midnight in Amsterdam, whatever Retry-After says; and a refused
// field means our own validation let it through, a bug of this plugin worth
// an error line.
func (p *provider) ebsError(op string, e *sdk.Error) *sdk.Error {
	switch {
	case e.ProviderCode == ebsNoPrice:
		now := p.now()
		e.WithRetryAfter(nextMidnight(now, p.amsterdam).Sub(now)).ForRequest()
	case e.Code == sdk.CodeInvalidRequest:
		p.logger().Error("CB refused a field that local validation should have refused: fix the cb plugin",
			"op", op, "provider_code", e.ProviderCode, "message", e.Message)
	}
	return e
}

// nextMidnight returns the first midnight in loc strictly after now. Adding a
// calendar day (not 24 hours) keeps it right on the days clocks change.
func nextMidnight(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
