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
	// Renew extends a loan.
	Renew(ctx context.Context, r RenewRequest) (Loan, error)
	// Return ends a loan early.
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

// Link is one access link of a loan.
type Link struct {
	Format    string
	Rel       string // "content" or "supplement"
	Href      string
	Name      string // supplement links carry a name
	ExpiresAt time.Time
}

// Loan is what a distributor answered to a checkout, renewal or return.
type Loan struct {
	Format    string
	ExpiresAt time.Time
	Links     []Link
	// ProviderRef holds what the distributor needs later (order reference,
	// transaction id, checkout id). The host stores it and hands it back in
	// LoanRef.
	ProviderRef map[string]string
}

// LoanRef is the host's record of an existing loan, handed to the plugin for
// operations on it.
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

// Event types, as in api.md §5.
const (
	EventLoanCreated  = "loan.created"
	EventLoanRenewed  = "loan.renewed"
	EventLoanReturned = "loan.returned"
	EventLoanExpired  = "loan.expired"
	EventLoanRevoked  = "loan.revoked"
	EventLoanNotified = "loan.notified"
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
