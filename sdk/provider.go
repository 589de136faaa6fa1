package sdk

import (
	"context"
	"time"
)

// Provider is what a plugin implements: one distributor, serving any number of
// provider instances (distributor accounts). Every call names its instance;
// Configure hands each instance its settings before the first call.
//
// Embed Unimplemented to answer CodeUnsupportedOperation for every operation a
// distributor does not offer.
type Provider interface {
	// Describe tells the host who the plugin is and what it offers.
	Describe(ctx context.Context) (Info, error)
	// Configure gives an instance its settings (secrets included). It is
	// called again with new settings when the host reconfigures or swaps.
	Configure(ctx context.Context, instance string, settings map[string]string) error
	// Checkout lends an item to a patron.
	Checkout(ctx context.Context, r CheckoutRequest) (Loan, error)
	// Fulfill returns fresh access links for an existing loan.
	Fulfill(ctx context.Context, r FulfillRequest) (Fulfillment, error)
	// Renew extends a loan by r.Days and answers it with its new
	// ExpiresAt (see Loan).
	Renew(ctx context.Context, r RenewRequest) (Loan, error)
	// Return ends a loan early and answers it as ended (see Loan); a loan
	// the distributor no longer knows is CodeLoanNotFound.
	Return(ctx context.Context, r ReturnRequest) (Loan, error)
	// Download returns a link for a purchased (not lent) publication.
	Download(ctx context.Context, r DownloadRequest) (Fulfillment, error)
	// CheckAccess tells whether a patron has access to an item.
	CheckAccess(ctx context.Context, r AccessRequest) (bool, error)
	// HandleNotification turns a distributor's callback into a loan event.
	HandleNotification(ctx context.Context, n Notification) (Event, error)
	// Health reports whether an instance can reach its distributor. An
	// implementation should be cheap; the host calls it at start and swap.
	Health(ctx context.Context, instance string) error
}

// Capability names an operation a plugin offers (api.md "Provider").
type Capability string

// The capabilities a plugin can declare in Info.
const (
	CapCheckout      Capability = "checkout"
	CapFulfill       Capability = "fulfill"
	CapRenew         Capability = "renew"
	CapReturn        Capability = "return"
	CapDownload      Capability = "download"
	CapAccessCheck   Capability = "access_check"
	CapNotifications Capability = "notifications"
	// CapResolve: the plugin implements Resolver.
	CapResolve Capability = "resolve"
	// CapAvailability: the plugin implements AvailabilityReporter (how many
	// copies of an item the library owns and has free, and its licences).
	CapAvailability Capability = "availability"
	// CapReconcile: the plugin implements Reconciler (the loans the
	// distributor holds for the instance's account).
	CapReconcile Capability = "reconcile"
)

// Info describes a plugin: its name and version, the operations it offers,
// the formats it lends and the checkout options it accepts with their allowed
// values (an empty list allows any value).
type Info struct {
	Name         string
	Version      string
	Capabilities []Capability
	Formats      []string
	Options      map[string][]string
	// Items says what an item id is: ItemsISBN makes the host verify the
	// check digit and convert ISBN-10 to ISBN-13 before any call; empty
	// means the distributor's own record ids, passed as given.
	Items string
	// DedupesCheckout declares that the distributor recognises a checkout
	// re-sent under the same CheckoutRequest.LoanID and places no second
	// order (De Marque's transaction_id, CB's OrderReference). Only then does
	// the host re-send a checkout whose first outcome it could not learn;
	// otherwise a retry answers CodeOutcomeUnknown and sends nothing.
	DedupesCheckout bool
	// DedupesRenew declares that a renewal re-sent under the same
	// RenewRequest.RenewalID extends the loan once: the distributor
	// answers the first renewal again, or CodeDuplicateReference, which
	// the host reads as "the first renewal stands". Only then does the
	// host re-send a renewal whose first outcome it could not learn.
	DedupesRenew bool
	// DedupesReturn declares that a return re-sent for a loan already
	// returned answers the returned loan (not an error): only then does
	// the host re-send a return whose first outcome it could not learn.
	DedupesReturn bool
	// Secrets names the settings (keys of Configure's settings) whose
	// values are secrets: passwords, API keys, tokens, signing keys. Such a
	// value must never appear in an error, a loan, a link, an event or a
	// log line. The conformance kit checks that across a whole run, for
	// these settings and for every setting whose name says it is a secret
	// (one of its words is password, passphrase, secret, token, key,
	// apikey or credentials, and the last is not id, url, name or path).
	Secrets []string
}

// ItemsISBN is the Info.Items of distributors whose item ids are ISBN-13/EAN-13.
const ItemsISBN = "isbn"

// Has reports whether the plugin declared capability c.
func (i Info) Has(c Capability) bool {
	for _, x := range i.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// CheckoutRequest asks a distributor to lend Item to Patron.
type CheckoutRequest struct {
	Instance string
	// LoanID is the host's id for the loan, unique and stable: use it as the
	// distributor's order or transaction reference.
	LoanID string
	// Item is the distributor's item id, already validated (ISBN-13 for
	// ISBN-based distributors).
	Item string
	// Patron is what the distributor may know of the patron: a stable
	// per-instance pseudonym unless the instance sets send_patron_id.
	Patron     string
	PatronName string
	Format     string
	Days       int
	// Options holds the provider-specific options the plugin declared, already
	// checked against Info.Options.
	Options map[string]string
	// NotifyURL is the per-loan callback the distributor may call (empty when
	// the host has no public URL).
	NotifyURL string
}

// Link is one access link of a loan. What to answer, by publication:
//
//   - an e-book file: Format FormatEPUB (or FormatPDF), Rel RelContent, Type
//     MediaTypeEPUB, or MediaTypeLCPLicense when Href is the LCP licence
//     that unlocks it;
//   - a downloadable audiobook: Format FormatAudiobook, Rel RelContent for
//     its package, or Rel RelManifest with Type MediaTypeAudiobookManifest
//     when a listening app streams it from a Readium Audiobook Manifest;
//   - a publication read or played in the browser: Rel RelStream, Type
//     MediaTypeHTML, Format the publication's (a streamed e-book is still
//     FormatEPUB);
//   - material that goes with it (a booklet): Rel RelSupplement with a Name.
//
// Href is an absolute http or https URL (the host drops any other). The
// host's redirect URL (api.md "Browser redirects") sends the browser to the
// first content link of the asked format, else its manifest, else its
// stream.
type Link struct {
	// Format is the loan format the link serves (FormatEPUB, FormatAudiobook,
	// or the distributor's own format id).
	Format string
	// Rel is what the link is for: RelContent (the default), RelSupplement,
	// RelManifest or RelStream.
	Rel  string
	Href string
	// Type is the media type of what Href serves, when the distributor
	// says (e.g. MediaTypeLCPLicense for an LCP licence document); the host
	// passes it on to the library as the link's "type".
	Type      string
	Name      string // supplement links carry a name
	ExpiresAt time.Time
}

// Link relations (Link.Rel).
const (
	// RelContent is what the patron's reading app opens: the publication
	// file, or the licence document that unlocks it (LCP).
	RelContent = "content"
	// RelSupplement is material that goes with the publication (an
	// audiobook's booklet, a map); supplement links carry a Name.
	RelSupplement = "supplement"
	// RelManifest is a Readium Web Publication or Audiobook Manifest: a
	// reading or listening app streams the publication from it.
	RelManifest = "manifest"
	// RelStream is a web page that reads or plays the publication in the
	// patron's browser (De Marque's streaming medium, eHUB's audio-stream).
	RelStream = "stream"
)

// Format names a connector should use for the formats every distributor
// has; a format a distributor names otherwise keeps its own id.
const (
	FormatEPUB      = "epub"
	FormatPDF       = "pdf"
	FormatAudiobook = "audiobook" // a downloadable audiobook (its manifest or package)
)

// Media types a connector may put in Link.Type.
const (
	MediaTypeEPUB              = "application/epub+zip"
	MediaTypePDF               = "application/pdf"
	MediaTypeLCPLicense        = "application/vnd.readium.lcp.license.v1.0+json"
	MediaTypeAudiobookManifest = "application/audiobook+json"
	MediaTypeWebPubManifest    = "application/webpub+json"
	MediaTypeHTML              = "text/html"
)

// Loan is what a distributor answered to a checkout, renewal or return.
// The host merges it into its own record of the loan: a zero ExpiresAt or
// Format and empty Links keep what the host had, ProviderRef entries are
// added to (or replace) the stored ones and none is removed.
//
//   - Checkout answers the new loan: its Format, its ExpiresAt (required
//     when the request asked for Days: in the future and no later than
//     those days, give or take the distributor's rounding; zero only when
//     the distributor does not say, and the host then counts the days
//     itself), its Links and its ProviderRef.
//   - Renew answers the loan with its new ExpiresAt (required: a renewal
//     that answers zero leaves the host expiring the loan at its old end),
//     and new Links or ProviderRef entries only when the renewal changed
//     them (CB's addition has an order reference of its own).
//   - Return answers the loan as ended: leave ExpiresAt zero (or the moment
//     the distributor ended it) and Links empty; the host marks the loan
//     returned and stops showing its links whatever the answer holds.
type Loan struct {
	Format    string
	ExpiresAt time.Time
	Links     []Link
	// ProviderRef holds what the distributor needs later: its ids of the
	// loan (order reference, transaction id, checkout id, the loan's status
	// document URL). The host stores it, hands it back in LoanRef to every
	// later call on the loan, and shows it to the library as the loan's
	// provider_ref (informational, also after the loan ended). So keep ids
	// there and nothing else: no secret (credentials, tokens, signed or
	// expiring download links) and no patron data beyond the Patron
	// pseudonym the plugin was given. The host keeps at most 32 entries,
	// keys up to 128 bytes and values up to 4 KiB; a larger entry is
	// dropped whole.
	ProviderRef map[string]string
}

// LoanRef is the host's record of an existing loan, handed to the plugin for
// operations on it: ProviderRef is what the plugin's answers put there
// (see Loan.ProviderRef), ExpiresAt the loan's current end.
type LoanRef struct {
	ID          string
	Item        string
	Patron      string // as in CheckoutRequest.Patron
	PatronName  string
	Format      string
	ExpiresAt   time.Time
	ProviderRef map[string]string
	Options     map[string]string
}

// FulfillRequest asks for fresh links for a loan, optionally in one format.
type FulfillRequest struct {
	Instance string
	Loan     LoanRef
	Format   string
}

// Fulfillment is a set of fresh access links.
type Fulfillment struct {
	Links []Link
}

// RenewRequest asks to extend a loan by Days.
type RenewRequest struct {
	Instance string
	Loan     LoanRef
	Days     int
	// RenewalID is a new unique id for this renewal, for distributors that
	// need a fresh order reference (CB's additions).
	RenewalID string
}

// ReturnRequest asks to end a loan early.
type ReturnRequest struct {
	Instance string
	Loan     LoanRef
}

// DownloadRequest asks for a download link of a purchased publication.
type DownloadRequest struct {
	Instance    string
	Customer    string
	Transaction string
	Item        string
	Format      string
	PatronName  string
}

// AccessRequest asks whether Patron has access to Item. Password is a secret:
// never log, store or echo it.
type AccessRequest struct {
	Instance string
	Item     string
	Patron   string
	Password string
}

// Notification is a distributor's callback, routed by the host to the loan it
// was issued for.
type Notification struct {
	Instance string
	Loan     LoanRef
	Method   string
	Header   map[string][]string
	Body     []byte
}

// Resolver is implemented by a plugin that declares CapResolve: it finds out
// whether a checkout whose outcome the host could not learn (a timeout, a
// crash mid-call) took effect at the distributor.
type Resolver interface {
	// Resolve answers Placed with the loan as the distributor has it, or
	// Placed=false when the distributor certainly holds no such loan. An
	// error (any code) means it cannot tell now: the host keeps the loan
	// unknown and asks again later.
	Resolve(ctx context.Context, r ResolveRequest) (Resolution, error)
}

// ResolveRequest names a loan of unknown outcome. Loan carries what the
// checkout sent (ID, Item, Patron, PatronName, Format, Options).
type ResolveRequest struct {
	Instance  string
	Loan      LoanRef
	Days      int
	NotifyURL string
}

// Resolution is what a distributor knows of a loan of unknown outcome.
type Resolution struct {
	Placed bool
	Loan   Loan
}

// AvailabilityReporter is implemented by a plugin that declares
// CapAvailability: it tells how many copies of an item the library's
// account owns and has free now, from the distributor's licences (ODL's
// License Info Documents).
type AvailabilityReporter interface {
	// Availability answers the item's copies and licences; an item the
	// distributor does not carry is CodeItemNotFound.
	Availability(ctx context.Context, r AvailabilityRequest) (Availability, error)
}

// AvailabilityRequest names an item of an instance (an id as in
// CheckoutRequest.Item, already validated).
type AvailabilityRequest struct {
	Instance string
	Item     string
}

// Availability is what the distributor says of an item's copies.
type Availability struct {
	// Owned is how many copies the library may lend at once over every
	// licence it can still lend from (ODL: the sum of min(checkouts left,
	// concurrency)).
	Owned int
	// Available is how many may be lent now.
	Available int
	// Licenses are the licences behind those copies, usable or not.
	Licenses []License
}

// Unlimited is the value of a licence term that sets no limit
// (License.Left, License.Concurrency).
const Unlimited = -1

// License is one licence of an item (ODL: its terms and its License Info
// Document's counts).
type License struct {
	ID     string
	Format string // the publication's media type
	// Status is "available", "unavailable" or "preorder".
	Status string
	// Checkouts is the total number of checkouts the licence allows
	// (Unlimited when it sets none).
	Checkouts int
	// Left is how many checkouts remain (Unlimited when none are counted).
	Left int
	// Concurrency is how many loans may run at once (Unlimited: no limit).
	Concurrency int
	// Available is how many loans may start now.
	Available int
	// Expires is when the licence ends (zero: perpetual).
	Expires time.Time
	// Length is the longest loan the licence allows (zero: no limit).
	Length time.Duration
}

// Reconciler is implemented by a plugin that declares CapReconcile: it
// lists the loans the distributor holds for an instance's account, one
// page at a time, so that the host can settle loans that ended without a
// word (a reader's app returned it, a licence ran out).
type Reconciler interface {
	// Reconcile answers one page of the loans the distributor holds now.
	Reconcile(ctx context.Context, r ReconcileRequest) (ReconcilePage, error)
}

// ReconcileRequest asks for one page of held loans.
type ReconcileRequest struct {
	Instance string
	// Cursor is the previous page's Next ("" for the first page).
	Cursor string
	// Limit is the most loans the page should hold; a plugin may answer
	// fewer (0: the plugin's own page size).
	Limit int
}

// ReconcilePage is one page of the loans a distributor holds.
type ReconcilePage struct {
	Loans []HeldLoan
	// Next is the cursor of the following page, "" after the last.
	Next string
}

// HeldLoan is a loan the distributor holds. The host matches it to its
// own by LoanID, else by any ProviderRef value equal to one of its loan's.
type HeldLoan struct {
	// LoanID is the CheckoutRequest.LoanID it was placed under, when the
	// distributor tells it (ODL's checkout_id), else "".
	LoanID string
	// ProviderRef identifies the loan as the checkout's answer did (e.g.
	// the loan's License Status Document URL).
	ProviderRef map[string]string
	Item        string
	// Patron is the patron as the distributor knows it (the pseudonym).
	Patron    string
	ExpiresAt time.Time
}

// Event types, as in api.md §5.
const (
	EventLoanCreated  = "loan.created"
	EventLoanRenewed  = "loan.renewed"
	EventLoanReturned = "loan.returned"
	EventLoanExpired  = "loan.expired"
	EventLoanRevoked  = "loan.revoked"
	EventLoanNotified = "loan.notified"
	// EventLoanActivated: a loan the distributor placed as ready (ODL: an
	// LSD in status ready) was opened by the patron's app and is active.
	EventLoanActivated = "loan.activated"
	// EventLoanResolved is the host's own: a loan of unknown outcome was
	// settled (data "outcome": "placed" or "not_placed").
	EventLoanResolved = "loan.resolved"
)

// Event is what a notification means for its loan.
type Event struct {
	// Type is one of the Event* constants.
	Type string
	// At is when it happened at the distributor (zero: now).
	At time.Time
	// ExpiresAt, when set, is the loan's new expiry.
	ExpiresAt time.Time
	// Data is passed on in the event's data object.
	Data map[string]string
}
