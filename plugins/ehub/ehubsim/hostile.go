package ehubsim

// Hostile catalogue entries, for tests that play a distributor the host must
// not trust blindly: links with a dangerous scheme, link lists of megabytes,
// error messages of megabytes. eHUB has never been seen to answer such
// things; a connector and its host must survive them anyway.

// WithLinksRecord adds record recordID to the catalogue with one format whose
// content links are hrefs, verbatim (any scheme, any length, any count).
// Checkouts and fulfillments of it answer those links like any other record.
func WithLinksRecord(recordID, format string, hrefs ...string) Option {
	return func(s *Sim) {
		links := make([]link, len(hrefs))
		for i, h := range hrefs {
			links[i] = link{Href: h}
		}
		s.records[recordID] = record{formats: map[string]formatMetadata{
			format: {ContentLinks: links, SupplementLinks: []link{}},
		}}
	}
}

// WithFailingRecord adds record recordID to the catalogue: every checkout of
// it answers status with the error body {"code": code, "message": message},
// verbatim (any code, any length).
func WithFailingRecord(recordID string, status int, code, message string) Option {
	return func(s *Sim) { s.records[recordID] = failing(status, code, message) }
}
