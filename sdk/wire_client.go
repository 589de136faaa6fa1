package sdk

import (
	"context"

	pb "github.com/lendgate/lendgate/sdk/internal/providerv1"
)

// grpcClient is the host's view of a plugin: a Provider whose every error is
// an *Error (see fromStatus).
type grpcClient struct {
	c pb.ProviderClient
}

func (c *grpcClient) Describe(ctx context.Context) (Info, error) {
	r, err := c.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Info{}, fromStatus(ctx, err)
	}
	return infoFromPB(r), nil
}

func (c *grpcClient) Configure(ctx context.Context, instance string, settings map[string]string) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{Instance: instance, Settings: settings})
	return fromStatus(ctx, err)
}

func (c *grpcClient) Checkout(ctx context.Context, r CheckoutRequest) (Loan, error) {
	l, err := c.c.Checkout(ctx, checkoutToPB(r))
	if err != nil {
		return Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Fulfill(ctx context.Context, r FulfillRequest) (Fulfillment, error) {
	f, err := c.c.Fulfill(ctx, &pb.FulfillRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Format: r.Format})
	if err != nil {
		return Fulfillment{}, fromStatus(ctx, err)
	}
	return Fulfillment{Links: linksFromPB(f.GetLinks())}, nil
}

func (c *grpcClient) Renew(ctx context.Context, r RenewRequest) (Loan, error) {
	l, err := c.c.Renew(ctx, &pb.RenewRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Days: int32(r.Days), RenewalId: r.RenewalID})
	if err != nil {
		return Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Return(ctx context.Context, r ReturnRequest) (Loan, error) {
	l, err := c.c.Return(ctx, &pb.ReturnRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan)})
	if err != nil {
		return Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Download(ctx context.Context, r DownloadRequest) (Fulfillment, error) {
	f, err := c.c.Download(ctx, downloadToPB(r))
	if err != nil {
		return Fulfillment{}, fromStatus(ctx, err)
	}
	return Fulfillment{Links: linksFromPB(f.GetLinks())}, nil
}

func (c *grpcClient) CheckAccess(ctx context.Context, r AccessRequest) (bool, error) {
	a, err := c.c.CheckAccess(ctx, &pb.AccessRequest{Instance: r.Instance, Item: r.Item, Patron: r.Patron, Password: r.Password})
	if err != nil {
		return false, fromStatus(ctx, err)
	}
	return a.GetAccess(), nil
}

func (c *grpcClient) HandleNotification(ctx context.Context, n Notification) (Event, error) {
	e, err := c.c.HandleNotification(ctx, notificationToPB(n))
	if err != nil {
		return Event{}, fromStatus(ctx, err)
	}
	return eventFromPB(e), nil
}

func (c *grpcClient) Health(ctx context.Context, instance string) error {
	_, err := c.c.Health(ctx, &pb.HealthRequest{Instance: instance})
	return fromStatus(ctx, err)
}

func (c *grpcClient) Resolve(ctx context.Context, r ResolveRequest) (Resolution, error) {
	res, err := c.c.Resolve(ctx, resolveToPB(r))
	if err != nil {
		return Resolution{}, fromStatus(ctx, err)
	}
	return Resolution{Placed: res.GetPlaced(), Loan: loanFromPB(res.GetLoan())}, nil
}

var (
	_ Provider = (*grpcClient)(nil)
	_ Resolver = (*grpcClient)(nil)
)
