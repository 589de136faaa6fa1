package ehubsim

import "net/http"

// Record ids of the simulator's catalogue. Every id not listed here answers
// INVALID_CONTENT_PROVIDER_RECORD_ID (RecordUnknown is one such id, named for
// tests).
const (
	// RecordMultiFormat is the seed's example record: formats ebook,
	// audio-stream and audio-downloadable, two content links and two named
	// supplement links each, with the seed's own malformed hrefs
	// ("http:/localhost:16521/…").
	RecordMultiFormat = "recordId_0"
	// RecordEbook has one ebook format with well-formed https links.
	RecordEbook = "record-ebook"
	// RecordUnknownFormat offers ebook and a format id the unified API does
	// not know ("video-stream"); a connector must keep it.
	RecordUnknownFormat = "record-video"
	// RecordMalformedLink has one ebook format whose content link is not a
	// URL at all and carries a query value ("token=…") that must never be
	// logged.
	RecordMalformedLink = "record-malformed-link"

	// RecordUnknown is not in the catalogue: INVALID_CONTENT_PROVIDER_RECORD_ID.
	RecordUnknown = "record-unknown"
	// The trigger records below answer a checkout with the error they name.
	RecordInactive         = "record-inactive"           // 409 PRODUCT_INACTIVE
	RecordUnavailable      = "record-unavailable"        // 409 PRODUCT_UNAVAILABLE
	RecordBorrowerLimit    = "record-borrower-limit"     // 409 BORROWER_LIMIT_REACHED
	RecordLibraryLimit     = "record-library-limit"      // 409 LIBRARY_LIMIT_REACHED
	RecordMaxDownloads     = "record-max-downloads"      // 409 MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED
	RecordCreateLoanFailed = "record-create-loan-failed" // 500 CREATE_LOAN_FAILED
	RecordSomethingNew     = "record-something-new"      // 422 SOMETHING_NEW (a code no table knows)
	RecordMissingContent   = "record-missing-content"    // 409 MISSING_CONTENT_IN_LOAN
	RecordInvalidRegion    = "record-invalid-region"     // 400 INVALID_REGION_ID
)

// The formats of the seed.
const (
	FormatEbook             = "ebook"
	FormatAudioStream       = "audio-stream"
	FormatAudioDownloadable = "audio-downloadable"
	// FormatUnknown is a format id the unified API does not list.
	FormatUnknown = "video-stream"
)

// MalformedHref is RecordMalformedLink's content link, verbatim: malformed
// but http, like the seed's "http:/localhost:…" (the host drops links of
// other schemes, api.md §7).
const MalformedHref = "http:/not a url::%zz?token=simulated-secret"

// record is one catalogue entry: either the formats a checkout lends, or the
// error every checkout of it answers.
type record struct {
	formats map[string]formatMetadata
	fail    *apiError
}

// apiError is eHUB's error answer: an HTTP status and {"code","message"}.
type apiError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

type formatMetadata struct {
	ContentLinks    []link `json:"contentLinks"`
	SupplementLinks []link `json:"supplementLinks"`
}

type link struct {
	Name string `json:"name,omitempty"`
	Href string `json:"href"`
}

// seedFormat builds a format exactly like the seed's example answer: two
// content and two supplement links under a base that lacks one slash.
func seedFormat(recordID, format string) formatMetadata {
	base := "http:/localhost:16521/ep/api/v1/records/" + recordID + "/" + format + "/"
	return formatMetadata{
		ContentLinks: []link{{Href: base + "content_0"}, {Href: base + "content_1"}},
		SupplementLinks: []link{
			{Name: "supplement_0", Href: base + "supplement_0"},
			{Name: "supplement_1", Href: base + "supplement_1"},
		},
	}
}

// wellFormedFormat builds a format with valid absolute https links.
func wellFormedFormat(recordID, format string) formatMetadata {
	base := "https://ehub.example/ep/api/v1/records/" + recordID + "/" + format + "/"
	return formatMetadata{
		ContentLinks:    []link{{Href: base + "content_0"}},
		SupplementLinks: []link{{Name: "cover", Href: base + "cover.jpg"}},
	}
}

func failing(status int, code, message string) record {
	return record{fail: &apiError{status: status, Code: code, Message: message}}
}

// catalogue returns a fresh catalogue; each Sim owns its own copy.
func catalogue() map[string]record {
	return map[string]record{
		RecordMultiFormat: {formats: map[string]formatMetadata{
			FormatEbook:             seedFormat(RecordMultiFormat, FormatEbook),
			FormatAudioStream:       seedFormat(RecordMultiFormat, FormatAudioStream),
			FormatAudioDownloadable: seedFormat(RecordMultiFormat, FormatAudioDownloadable),
		}},
		RecordEbook: {formats: map[string]formatMetadata{
			FormatEbook: wellFormedFormat(RecordEbook, FormatEbook),
		}},
		RecordUnknownFormat: {formats: map[string]formatMetadata{
			FormatEbook:   wellFormedFormat(RecordUnknownFormat, FormatEbook),
			FormatUnknown: wellFormedFormat(RecordUnknownFormat, FormatUnknown),
		}},
		RecordMalformedLink: {formats: map[string]formatMetadata{
			FormatEbook: {
				ContentLinks:    []link{{Href: MalformedHref}},
				SupplementLinks: []link{{Name: "cover", Href: "https://ehub.example/cover.jpg"}},
			},
		}},
		RecordInactive:         failing(http.StatusConflict, "PRODUCT_INACTIVE", "The product is inactive."),
		RecordUnavailable:      failing(http.StatusConflict, "PRODUCT_UNAVAILABLE", "The product is unavailable."),
		RecordBorrowerLimit:    failing(http.StatusConflict, "BORROWER_LIMIT_REACHED", "The borrower has reached the loan limit."),
		RecordLibraryLimit:     failing(http.StatusConflict, "LIBRARY_LIMIT_REACHED", "The library has reached its loan limit."),
		RecordMaxDownloads:     failing(http.StatusConflict, "MAX_NO_OF_DOWNLOADS_FOR_PRODUCT_REACHED", "The product's download limit is reached."),
		RecordCreateLoanFailed: failing(http.StatusInternalServerError, "CREATE_LOAN_FAILED", "The loan could not be created."),
		RecordSomethingNew:     failing(http.StatusUnprocessableEntity, "SOMETHING_NEW", "A code this connector has never seen."),
		RecordMissingContent:   failing(http.StatusConflict, "MISSING_CONTENT_IN_LOAN", "The loan has no content."),
		RecordInvalidRegion:    failing(http.StatusBadRequest, "INVALID_REGION_ID", "The product is not sold in this region."),
	}
}
