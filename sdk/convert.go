package sdk

import (
	"time"

	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
)

// The converters between the author-facing types and the wire types. Times
// travel as Unix milliseconds; 0 is the zero time.

func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func infoToPB(i Info) *pb.Info {
	out := &pb.Info{Name: i.Name, Version: i.Version, Formats: i.Formats, Items: i.Items, DedupesCheckout: i.DedupesCheckout}
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

func infoFromPB(p *pb.Info) Info {
	i := Info{Name: p.GetName(), Version: p.GetVersion(), Formats: p.GetFormats(), Items: p.GetItems(), DedupesCheckout: p.GetDedupesCheckout()}
	for _, c := range p.GetCapabilities() {
		i.Capabilities = append(i.Capabilities, Capability(c))
	}
	if len(p.GetOptions()) > 0 {
		i.Options = make(map[string][]string, len(p.GetOptions()))
		for k, v := range p.GetOptions() {
			i.Options[k] = v.GetValues()
		}
	}
	return i
}

func linksToPB(ls []Link) []*pb.Link {
	out := make([]*pb.Link, len(ls))
	for i, l := range ls {
		out[i] = &pb.Link{Format: l.Format, Rel: l.Rel, Href: l.Href, Name: l.Name, ExpiresAtUnixMs: toMillis(l.ExpiresAt)}
	}
	return out
}

func linksFromPB(ls []*pb.Link) []Link {
	if len(ls) == 0 {
		return nil
	}
	out := make([]Link, len(ls))
	for i, l := range ls {
		out[i] = Link{Format: l.GetFormat(), Rel: l.GetRel(), Href: l.GetHref(), Name: l.GetName(), ExpiresAt: fromMillis(l.GetExpiresAtUnixMs())}
	}
	return out
}

func loanToPB(l Loan) *pb.Loan {
	return &pb.Loan{Format: l.Format, ExpiresAtUnixMs: toMillis(l.ExpiresAt), Links: linksToPB(l.Links), ProviderRef: l.ProviderRef}
}

func loanFromPB(p *pb.Loan) Loan {
	return Loan{Format: p.GetFormat(), ExpiresAt: fromMillis(p.GetExpiresAtUnixMs()), Links: linksFromPB(p.GetLinks()), ProviderRef: p.GetProviderRef()}
}

func loanRefToPB(r LoanRef) *pb.LoanRef {
	return &pb.LoanRef{Id: r.ID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName, Format: r.Format,
		ExpiresAtUnixMs: toMillis(r.ExpiresAt), ProviderRef: r.ProviderRef, Options: r.Options}
}

func loanRefFromPB(p *pb.LoanRef) LoanRef {
	return LoanRef{ID: p.GetId(), Item: p.GetItem(), Patron: p.GetPatron(), PatronName: p.GetPatronName(), Format: p.GetFormat(),
		ExpiresAt: fromMillis(p.GetExpiresAtUnixMs()), ProviderRef: p.GetProviderRef(), Options: p.GetOptions()}
}

func checkoutToPB(r CheckoutRequest) *pb.CheckoutRequest {
	return &pb.CheckoutRequest{Instance: r.Instance, LoanId: r.LoanID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName,
		Format: r.Format, Days: int32(r.Days), Options: r.Options, NotifyUrl: r.NotifyURL}
}

func checkoutFromPB(p *pb.CheckoutRequest) CheckoutRequest {
	return CheckoutRequest{Instance: p.GetInstance(), LoanID: p.GetLoanId(), Item: p.GetItem(), Patron: p.GetPatron(),
		PatronName: p.GetPatronName(), Format: p.GetFormat(), Days: int(p.GetDays()), Options: p.GetOptions(), NotifyURL: p.GetNotifyUrl()}
}

func downloadToPB(r DownloadRequest) *pb.DownloadRequest {
	return &pb.DownloadRequest{Instance: r.Instance, Customer: r.Customer, Transaction: r.Transaction, Item: r.Item, Format: r.Format, PatronName: r.PatronName}
}

func downloadFromPB(p *pb.DownloadRequest) DownloadRequest {
	return DownloadRequest{Instance: p.GetInstance(), Customer: p.GetCustomer(), Transaction: p.GetTransaction(), Item: p.GetItem(), Format: p.GetFormat(), PatronName: p.GetPatronName()}
}

func notificationToPB(n Notification) *pb.Notification {
	out := &pb.Notification{Instance: n.Instance, Loan: loanRefToPB(n.Loan), Method: n.Method, Body: n.Body}
	if len(n.Header) > 0 {
		out.Header = make(map[string]*pb.HeaderValues, len(n.Header))
		for k, v := range n.Header {
			out.Header[k] = &pb.HeaderValues{Values: v}
		}
	}
	return out
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
	return &pb.Event{Type: e.Type, AtUnixMs: toMillis(e.At), ExpiresAtUnixMs: toMillis(e.ExpiresAt), Data: e.Data}
}

func eventFromPB(p *pb.Event) Event {
	return Event{Type: p.GetType(), At: fromMillis(p.GetAtUnixMs()), ExpiresAt: fromMillis(p.GetExpiresAtUnixMs()), Data: p.GetData()}
}

func resolveToPB(r ResolveRequest) *pb.ResolveRequest {
	return &pb.ResolveRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Days: int32(r.Days), NotifyUrl: r.NotifyURL}
}

func resolveFromPB(p *pb.ResolveRequest) ResolveRequest {
	return ResolveRequest{Instance: p.GetInstance(), Loan: loanRefFromPB(p.GetLoan()), Days: int(p.GetDays()), NotifyURL: p.GetNotifyUrl()}
}
