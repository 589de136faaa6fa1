package main

import (
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// The checkout options the plugin declares, and their defaults when a
// checkout leaves them out: download with a watermark, which every reader
// app can open.
const (
	optReadingMethod = "reading_method"
	optProtection    = "protection"

	defaultReadingMethod = "D"
	defaultProtection    = "02"
)

// The loan period, in CB's rental unit DAG (days): at most 21.
const (
	maxDays     = 21
	defaultDays = maxDays
)

// maxOrderReference is CB's limit on OrderReference.
const maxOrderReference = 100

// allowedPairs are the ReadingMethod/Protection combinations CB supports:
// online reading with a watermark, an app with a watermark, an e-reader with
// Adobe DRM.
var allowedPairs = map[[2]string]bool{
	{"CR", "02"}: true,
	{"D", "02"}:  true,
	{"D", "03"}:  true,
}

// readingOptions returns the reading method and protection from opts, with
// the defaults for absent ones, refusing unknown values and pairs CB does not
// allow before anything is sent.
func readingOptions(opts map[string]string) (method, protection string, err error) {
	method, protection = opts[optReadingMethod], opts[optProtection]
	if method == "" {
		method = defaultReadingMethod
	}
	if protection == "" {
		protection = defaultProtection
	}
	if method != "D" && method != "CR" {
		return "", "", sdk.Errorf(sdk.CodeInvalidRequest, "option %s must be D or CR, not %q", optReadingMethod, method)
	}
	if protection != "00" && protection != "02" && protection != "03" {
		return "", "", sdk.Errorf(sdk.CodeInvalidRequest, "option %s must be 00, 02 or 03, not %q", optProtection, protection)
	}
	if !allowedPairs[[2]string{method, protection}] {
		return "", "", sdk.Errorf(sdk.CodeUnsupportedCombination,
			"CB does not allow reading_method %s with protection %s (allowed: CR+02, D+02, D+03)", method, protection)
	}
	return method, protection, nil
}

// checkDays refuses a period CB would refuse.
func checkDays(days int) error {
	if days < 1 || days > maxDays {
		return sdk.Errorf(sdk.CodeInvalidRequest, "days must be between 1 and %d, not %d", maxDays, days)
	}
	return nil
}

// checkItem refuses an item that is not an EAN-13 with a valid check digit.
func checkItem(item string) error {
	if !isbn.Valid(item) {
		return sdk.Errorf(sdk.CodeInvalidRequest, "item %q is not a valid EAN-13", item)
	}
	return nil
}

// checkReference refuses an order reference CB would refuse.
func checkReference(what, ref string) error {
	if ref == "" {
		return sdk.Errorf(sdk.CodeInvalidRequest, "%s is required (CB's OrderReference)", what)
	}
	if n := len([]rune(ref)); n > maxOrderReference {
		return sdk.Errorf(sdk.CodeInvalidRequest, "%s has %d characters, CB allows at most %d", what, n, maxOrderReference)
	}
	return nil
}

// checkFormat returns the format of a loan: epub unless pdf is asked for.
func checkFormat(format string) (string, error) {
	switch format {
	case "":
		return "epub", nil
	case "epub", "pdf":
		return format, nil
	}
	return "", sdk.Errorf(sdk.CodeInvalidRequest, "format %q is not offered (epub or pdf)", format)
}
