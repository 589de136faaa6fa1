package host

import (
	"cmp"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/isbn"
)

// validName reports whether s is a valid patron id or provider name: 1–100
// characters of [A-Za-z0-9._-]. (A loop, not a regexp: it runs on every
// checkout.)
func validName(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Limits on free-text fields.
const (
	maxItemLen           = 200
	maxPatronNameLen     = 200
	maxIdempotencyKeyLen = 100
	maxDays              = 366
	maxOptionValueLen    = 2048
)

func checkPatron(p string) error {
	if p == "" {
		return invalid("patron is required")
	}
	if !validName(p) {
		return invalid("patron must be 1-100 characters of [A-Za-z0-9._-]")
	}
	return nil
}

func checkText(field, v string, max int) error {
	if len(v) > max {
		return invalid("%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", field)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return invalid("%s contains a control character", field)
		}
	}
	return nil
}

// normalizeItem checks an item id for the plugin's kind of ids: ISBN-13/EAN
// with a verified check digit (ISBN-10 converted) for ISBN-based plugins, a
// plain record id otherwise.
func normalizeItem(info sdk.Info, item string) (string, error) {
	if item == "" {
		return "", invalid("item is required")
	}
	if err := checkText("item", item, maxItemLen); err != nil {
		return "", err
	}
	if info.Items != sdk.ItemsISBN {
		return item, nil
	}
	n, err := isbn.Normalize(item)
	if err != nil {
		// The error quotes the item, which may be 200 bytes: an answer
		// quotes 120 at most.
		return "", invalid("item: %s", strings.Replace(err.Error(), strconv.Quote(item), strconv.Quote(echo(item)), 1))
	}
	return n, nil
}

// checkFormat refuses a format the plugin did not declare.
func checkFormat(info sdk.Info, format string) error {
	if format == "" || len(info.Formats) == 0 {
		return nil
	}
	for _, f := range info.Formats {
		if f == format {
			return nil
		}
	}
	return invalid("format %q is not offered (offered: %s)", echo(format), strings.Join(info.Formats, ", "))
}

// checkOptions refuses options the plugin did not declare and values outside
// the declared lists.
func checkOptions(info sdk.Info, opts map[string]string) error {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		allowed, ok := info.Options[k]
		if !ok {
			return invalid("unknown option %q", echo(k))
		}
		v := opts[k]
		if err := checkText(fmt.Sprintf("options.%s", k), v, maxOptionValueLen); err != nil {
			return err
		}
		if len(allowed) == 0 {
			continue
		}
		found := false
		for _, a := range allowed {
			found = found || a == v
		}
		if !found {
			return invalid("option %s=%q is not one of %s", k, echo(v), strings.Join(allowed, ", "))
		}
	}
	return nil
}

func checkDays(days int) error {
	if days < 0 || days > maxDays {
		return invalid("days must be between 1 and %d", maxDays)
	}
	return nil
}

// itemFor normalises an item for the instance's plugin (ISBN or record id).
func itemFor(in *instance, item string) (string, error) {
	info, ok := in.info()
	if !ok {
		// The plugin is down, so what an item id is cannot be known; the
		// call answers plugin_unavailable anyway.
		if item == "" {
			return "", invalid("item is required")
		}
		return item, nil
	}
	return normalizeItem(info, item)
}

// maxCustomerLen bounds a download's customer, like the other ids the host
// passes on. What a customer id may contain is the distributor's rule, and
// its plugin checks it.
const maxCustomerLen = 255

// The one check of each operation: the capability, then every field, in
// the order a caller reads the errors. Each returns the request as the
// operation sends it (the item normalised, defaults filled in).

// validCheckout checks a checkout at in and fills in the instance's
// default format and days.
func (in *instance) validCheckout(r CheckoutRequest) (CheckoutRequest, error) {
	if err := in.requireCapability(sdk.CapCheckout); err != nil {
		return r, err
	}
	if err := checkPatron(r.Patron); err != nil {
		return r, err
	}
	if err := checkText("patron_name", r.PatronName, maxPatronNameLen); err != nil {
		return r, err
	}
	if err := checkDays(r.Days); err != nil {
		return r, err
	}
	item, err := itemFor(in, r.Item)
	if err != nil {
		return r, err
	}
	if info, up := in.info(); up {
		if err := checkFormat(info, r.Format); err != nil {
			return r, err
		}
		if err := checkOptions(info, r.Options); err != nil {
			return r, err
		}
	}
	r.Format = cmp.Or(r.Format, in.cfg.Defaults.Format)
	r.Days = cmp.Or(r.Days, in.cfg.Defaults.Days)
	r.Item = item
	return r, nil
}

// validRenew checks a renewal; it needs no instance, so a bad request
// answers 400 before the provider is looked up.
func validRenew(r RenewRequest) error {
	if r.Days < 1 || r.Days > maxDays {
		return invalid("days must be between 1 and %d", maxDays)
	}
	if r.Patron != "" {
		return checkPatron(r.Patron)
	}
	return nil
}

// validDownload checks a download of a purchased publication. What a
// customer id may contain is the distributor's rule, checked by its plugin.
func (in *instance) validDownload(r DownloadRequest) (DownloadRequest, error) {
	if err := in.requireCapability(sdk.CapDownload); err != nil {
		return r, err
	}
	switch {
	case r.Customer == "":
		return r, invalid("customer is required")
	case r.Transaction == "":
		return r, invalid("transaction is required")
	case r.Format == "":
		return r, invalid("format is required")
	case r.PatronName == "":
		return r, invalid("patron_name is required")
	}
	if err := checkText("customer", r.Customer, maxCustomerLen); err != nil {
		return r, err
	}
	for field, v := range map[string]string{"transaction": r.Transaction, "format": r.Format, "patron_name": r.PatronName} {
		if err := checkText(field, v, maxPatronNameLen); err != nil {
			return r, err
		}
	}
	var err error
	if r.Item, err = itemFor(in, r.Item); err != nil {
		return r, err
	}
	if info, ok := in.info(); ok {
		if err := checkFormat(info, r.Format); err != nil {
			return r, err
		}
	}
	return r, nil
}

// validAccessCheck checks an access check. The password is only bounded:
// it goes to the plugin and nowhere else.
func (in *instance) validAccessCheck(r AccessCheckRequest) (AccessCheckRequest, error) {
	if err := in.requireCapability(sdk.CapAccessCheck); err != nil {
		return r, err
	}
	if err := checkPatron(r.Patron); err != nil {
		return r, err
	}
	if len(r.Password) > 1024 {
		return r, invalid("password is too long")
	}
	var err error
	r.Item, err = itemFor(in, r.Item)
	return r, err
}

// Error is the host's error type: the SDK's, so that a plugin's error and the
// host's own read the same. Check codes with CodeOf or errors.As.
type Error = sdk.Error

// CodeOf returns the unified code of err ("" for nil).
func CodeOf(err error) sdk.Code { return sdk.CodeOf(err) }

func invalid(format string, args ...any) *Error {
	return sdk.Errorf(sdk.CodeInvalidRequest, format, args...)
}
