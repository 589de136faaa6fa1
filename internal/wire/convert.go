package wire

import (
	"time"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/sdk"
)

// The host's half of the converters: requests to the wire, answers from it.
// The plugin's half (requests from the wire, answers to it) is in package
// sdk. Both encode times with providerv1.ToMillis and FromMillis.

func infoFromPB(p *pb.Info) sdk.Info {
	i := sdk.Info{Name: p.GetName(), Version: p.GetVersion(), Formats: p.GetFormats(), Items: p.GetItems(), DedupesCheckout: p.GetDedupesCheckout(),
		DedupesRenew: p.GetDedupesRenew(), DedupesReturn: p.GetDedupesReturn(), Secrets: p.GetSecrets()}
	for _, c := range p.GetCapabilities() {
		i.Capabilities = append(i.Capabilities, sdk.Capability(c))
	}
	if len(p.GetOptions()) > 0 {
		i.Options = make(map[string][]string, len(p.GetOptions()))
		for k, v := range p.GetOptions() {
			i.Options[k] = v.GetValues()
		}
	}
	return i
}

func linksFromPB(ls []*pb.Link) []sdk.Link {
	if len(ls) == 0 {
		return nil
	}
	out := make([]sdk.Link, len(ls))
	for i, l := range ls {
		out[i] = sdk.Link{Format: l.GetFormat(), Rel: l.GetRel(), Href: l.GetHref(), Type: l.GetType(), Name: l.GetName(), ExpiresAt: pb.FromMillis(l.GetExpiresAtUnixMs())}
	}
	return out
}

func loanFromPB(p *pb.Loan) sdk.Loan {
	return sdk.Loan{Format: p.GetFormat(), ExpiresAt: pb.FromMillis(p.GetExpiresAtUnixMs()), Links: linksFromPB(p.GetLinks()), ProviderRef: p.GetProviderRef()}
}

func loanRefToPB(r sdk.LoanRef) *pb.LoanRef {
	return &pb.LoanRef{Id: r.ID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName, Format: r.Format,
		ExpiresAtUnixMs: pb.ToMillis(r.ExpiresAt), ProviderRef: r.ProviderRef, Options: r.Options}
}

func checkoutToPB(r sdk.CheckoutRequest) *pb.CheckoutRequest {
	return &pb.CheckoutRequest{Instance: r.Instance, LoanId: r.LoanID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName,
		Format: r.Format, Days: int32(r.Days), Options: r.Options, NotifyUrl: r.NotifyURL}
}

func downloadToPB(r sdk.DownloadRequest) *pb.DownloadRequest {
	return &pb.DownloadRequest{Instance: r.Instance, Customer: r.Customer, Transaction: r.Transaction, Item: r.Item, Format: r.Format, PatronName: r.PatronName}
}

func notificationToPB(n sdk.Notification) *pb.Notification {
	out := &pb.Notification{Instance: n.Instance, Loan: loanRefToPB(n.Loan), Method: n.Method, Body: n.Body}
	if len(n.Header) > 0 {
		out.Header = make(map[string]*pb.HeaderValues, len(n.Header))
		for k, v := range n.Header {
			out.Header[k] = &pb.HeaderValues{Values: v}
		}
	}
	return out
}

func eventFromPB(p *pb.Event) sdk.Event {
	return sdk.Event{Type: p.GetType(), At: pb.FromMillis(p.GetAtUnixMs()), ExpiresAt: pb.FromMillis(p.GetExpiresAtUnixMs()), Data: p.GetData()}
}

func resolveToPB(r sdk.ResolveRequest) *pb.ResolveRequest {
	return &pb.ResolveRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Days: int32(r.Days), NotifyUrl: r.NotifyURL}
}

func availabilityFromPB(p *pb.ItemAvailability) sdk.Availability {
	a := sdk.Availability{Owned: int(p.GetOwned()), Available: int(p.GetAvailable())}
	for _, l := range p.GetLicenses() {
		a.Licenses = append(a.Licenses, sdk.License{ID: l.GetId(), Format: l.GetFormat(), Status: l.GetStatus(), Checkouts: int(l.GetCheckouts()),
			Left: int(l.GetLeft()), Concurrency: int(l.GetConcurrency()), Available: int(l.GetAvailable()),
			Expires: pb.FromMillis(l.GetExpiresUnixMs()), Length: time.Duration(l.GetLengthMs()) * time.Millisecond})
	}
	return a
}

func reconcilePageFromPB(p *pb.ReconcilePage) sdk.ReconcilePage {
	out := sdk.ReconcilePage{Next: p.GetNext()}
	for _, l := range p.GetLoans() {
		out.Loans = append(out.Loans, sdk.HeldLoan{LoanID: l.GetLoanId(), ProviderRef: l.GetProviderRef(), Item: l.GetItem(), Patron: l.GetPatron(),
			ExpiresAt: pb.FromMillis(l.GetExpiresAtUnixMs())})
	}
	return out
}
