package main

import (
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// ebsUserUnknown is checkAccess's "user unknown": no access, not an error.
const ebsUserUnknown = "EBS-10038"

// ebsMapping is what one EBS code means in the unified vocabulary.
type ebsMapping struct {
	code sdk.Code
	// text stands in when CB sends no MessageText.
	text string
	// untilMidnight: come back at the next midnight in Amsterdam.
	untilMidnight bool
	// forRequest: the answer is about this request's item only, so its
	// Retry-After pauses nothing else of the instance (api.md §7).
	forRequest bool
	// localBug: our own validation should have refused the request before
	// it reached CB, so the answer reveals a bug in this plugin.
	localBug bool
}

// ebsCodes is providers.md's error table for CB. Any code not here is a
// provider_error that keeps its provider code.
var ebsCodes = map[string]ebsMapping{
	"EBS-00001":    {code: sdk.CodeProviderError, text: "something went wrong, the order is not fulfilled"},
	"EBS-10003":    {code: sdk.CodeItemNotFound, text: "a product with this EAN is not available"},
	"EBS-10004":    {code: sdk.CodeNotAvailable, text: "this product is not available for delivery"},
	"EBS-10005":    {code: sdk.CodeDuplicateReference, text: "this OrderReference has already been used"},
	"EBS-10006":    {code: sdk.CodeNotAvailable, text: "this product cannot be ordered yet"},
	"EBS-10017":    {code: sdk.CodeLimitReached, text: "the credit limit has been exceeded"},
	"EBS-10034":    {code: sdk.CodeNotAvailable, text: "not available for the given reading method"},
	ebsUserUnknown: {code: sdk.CodePatronRejected, text: "user unknown"},
	"EBS-10043":    {code: sdk.CodeUnsupportedCombination, text: "the combination of ReadingMethod and Protection is not allowed"},
	"EBS-10045":    {code: sdk.CodeNotAvailable, text: "no valid licence model found for this order"},
	"EBS-10046":    {code: sdk.CodeUnsupportedCombination, text: "for licence models Shoulder and Tail the rental period has to be 3 weeks"},
	"EBS-10053":    {code: sdk.CodeLoanNotFound, text: "referenced order not found"},
	"EBS-10054":    {code: sdk.CodePatronMismatch, text: "referenced order is not for the same UserId"},
	"EBS-10060":    {code: sdk.CodeTryLater, text: "ordered, but no price available yet: try again tomorrow", untilMidnight: true, forRequest: true},
	"EBS-10063":    fieldRefused,
	"EBS-10064":    fieldRefused,
	"EBS-10065":    fieldRefused,
	"EBS-10066":    fieldRefused,
	"EBS-10067":    fieldRefused,
	"EBS-10068":    fieldRefused,
	"EBS-10069":    fieldRefused,
	"EBS-10070":    fieldRefused,
	"EBS-10071":    fieldRefused,
	"EBS-10072":    fieldRefused,
	"EBS-10073":    fieldRefused,
	"EBS-10074":    fieldRefused,
	"EBS-10075":    fieldRefused,
}

// fieldRefused is EBS-10063 … 10075: a mandatory field missing or malformed.
var fieldRefused = ebsMapping{code: sdk.CodeInvalidRequest, text: "a field is missing or malformed", localBug: true}

// maxMessage caps the distributor's text in an error: it is shown to callers
// and logged.
const maxMessage = 500

// ebsError turns an EBS code and its text into the unified error.
func (p *Provider) ebsError(op, providerCode, text string) *sdk.Error {
	m, ok := ebsCodes[providerCode]
	if !ok {
		m = ebsMapping{code: sdk.CodeProviderError, text: "CB answered an undocumented error"}
	}
	if r := []rune(text); len(r) > maxMessage {
		text = string(r[:maxMessage]) + "…"
	}
	if text == "" {
		text = m.text
	}
	e := sdk.Errorf(m.code, "%s", text).WithProviderCode(providerCode)
	if m.untilMidnight {
		now := p.now()
		e.WithRetryAfter(nextMidnight(now, p.amsterdam).Sub(now))
	}
	if m.forRequest {
		e.ForRequest()
	}
	if m.localBug {
		p.logger().Error("CB refused a field that local validation should have refused: fix the cb plugin",
			"op", op, "provider_code", providerCode, "message", text)
	}
	return e
}

// nextMidnight returns the first midnight in loc strictly after now. Adding a
// calendar day (not 24 hours) keeps it right on the days clocks change.
func nextMidnight(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
