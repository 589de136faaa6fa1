package sdk

import (
	pb "github.com/lendgate/lendgate/internal/providerv1"
)

// The plugin's half of the converters: requests from the wire, answers to
// it. The host's half is in internal/wire. Times travel as Unix
// milliseconds; 0 is the zero time.

func infoToPB(i Info) *pb.Info {
	out := &pb.Info{Name: i.Name, Version: i.Version, Formats: i.Formats, Items: i.Items, DedupesCheckout: i.DedupesCheckout,
		DedupesRenew: i.DedupesRenew, DedupesReturn: i.DedupesReturn, Secrets: i.Secrets}
	for _, c := range i.Capabilities {
		out.Capabilities = append(out.Capabilities, string(c))
	}
	if len(i.Options) > 0 {
		out.Options = make(map[string]*pb.OptionValues, len(i.Options))
		for k, v := range i.Options {
			out.Options[k] = &pb.OptionValues{Values: v}
		}
	}
	return out
}

func linksToPB(ls []Link) []*pb.Link {
	out := make([]*pb.Link, len(ls))
	for i, l := range ls {
		out[i] = &pb.Link{Format: l.Format, Rel: l.Rel, Href: l.Href, Type: l.Type, Name: l.Name, ExpiresAtUnixMs: pb.ToMillis(l.ExpiresAt)}
	}
	return out
}

func loanToPB(l Loan) *pb.Loan {
	return &pb.Loan{Format: l.Format, ExpiresAtUnixMs: pb.ToMillis(l.ExpiresAt), Links: linksToPB(l.Links), ProviderRef: l.ProviderRef}
}

func loanRefFromPB(p *pb.LoanRef) LoanRef {
	return LoanRef{ID: p.GetId(), Item: p.GetItem(), Patron: p.GetPatron(), PatronName: p.GetPatronName(), Format: p.GetFormat(),
		ExpiresAt: pb.FromMillis(p.GetExpiresAtUnixMs()), ProviderRef: p.GetProviderRef(), Options: p.GetOptions()}
}

func checkoutFromPB(p *pb.CheckoutRequest) CheckoutRequest {
	return CheckoutRequest{Instance: p.GetInstance(), LoanID: p.GetLoanId(), Item: p.GetItem(), Patron: p.GetPatron(),
		PatronName: p.GetPatronName(), Format: p.GetFormat(), Days: int(p.GetDays()), Options: p.GetOptions(), NotifyURL: p.GetNotifyUrl()}
}

func downloadFromPB(p *pb.DownloadRequest) DownloadRequest {
	return DownloadRequest{Instance: p.GetInstance(), Customer: p.GetCustomer(), Transaction: p.GetTransaction(), Item: p.GetItem(), Format: p.GetFormat(), PatronName: p.GetPatronName()}
}

func notificationFromPB(p *pb.Notification) Notification {
	n := Notification{Instance: p.GetInstance(), Loan: loanRefFromPB(p.GetLoan()), Method: p.GetMethod(), Body: p.GetBody()}
	if len(p.GetHeader()) > 0 {
		n.Header = make(map[string][]string, len(p.GetHeader()))
		for k, v := range p.GetHeader() {
			n.Header[k] = v.GetValues()
		}
	}
	return n
}

func eventToPB(e Event) *pb.Event {
	return &pb.Event{Type: e.Type, AtUnixMs: pb.ToMillis(e.At), ExpiresAtUnixMs: pb.ToMillis(e.ExpiresAt), Data: e.Data}
}

func resolveFromPB(p *pb.ResolveRequest) ResolveRequest {
	return ResolveRequest{Instance: p.GetInstance(), Loan: loanRefFromPB(p.GetLoan()), Days: int(p.GetDays()), NotifyURL: p.GetNotifyUrl()}
}

func availabilityToPB(a Availability) *pb.ItemAvailability {
	out := &pb.ItemAvailability{Owned: int64(a.Owned), Available: int64(a.Available)}
	for _, l := range a.Licenses {
		out.Licenses = append(out.Licenses, &pb.License{Id: l.ID, Format: l.Format, Status: l.Status, Checkouts: int64(l.Checkouts),
			Left: int64(l.Left), Concurrency: int64(l.Concurrency), Available: int64(l.Available),
			ExpiresUnixMs: pb.ToMillis(l.Expires), LengthMs: l.Length.Milliseconds()})
	}
	return out
}

func reconcilePageToPB(p ReconcilePage) *pb.ReconcilePage {
	out := &pb.ReconcilePage{Next: p.Next}
	for _, l := range p.Loans {
		out.Loans = append(out.Loans, &pb.HeldLoan{LoanId: l.LoanID, ProviderRef: l.ProviderRef, Item: l.Item, Patron: l.Patron,
			ExpiresAtUnixMs: pb.ToMillis(l.ExpiresAt)})
	}
	return out
}
