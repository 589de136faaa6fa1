package wire

import (
	"context"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/sdk"
)

// grpcClient is the host's view of a plugin: an sdk.Provider whose every
// error is an *sdk.Error (see fromStatus).
type grpcClient struct {
	c pb.ProviderClient
}

func (c *grpcClient) Describe(ctx context.Context) (sdk.Info, error) {
	r, err := c.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return sdk.Info{}, fromStatus(ctx, err)
	}
	return infoFromPB(r), nil
}

func (c *grpcClient) Configure(ctx context.Context, instance string, settings map[string]string) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{Instance: instance, Settings: settings})
	return fromStatus(ctx, err)
}

func (c *grpcClient) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	l, err := c.c.Checkout(ctx, checkoutToPB(r))
	if err != nil {
		return sdk.Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	f, err := c.c.Fulfill(ctx, &pb.FulfillRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Format: r.Format})
	if err != nil {
		return sdk.Fulfillment{}, fromStatus(ctx, err)
	}
	return sdk.Fulfillment{Links: linksFromPB(f.GetLinks())}, nil
}

func (c *grpcClient) Renew(ctx context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	l, err := c.c.Renew(ctx, &pb.RenewRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan), Days: int32(r.Days), RenewalId: r.RenewalID})
	if err != nil {
		return sdk.Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Return(ctx context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	l, err := c.c.Return(ctx, &pb.ReturnRequest{Instance: r.Instance, Loan: loanRefToPB(r.Loan)})
	if err != nil {
		return sdk.Loan{}, fromStatus(ctx, err)
	}
	return loanFromPB(l), nil
}

func (c *grpcClient) Download(ctx context.Context, r sdk.DownloadRequest) (sdk.Fulfillment, error) {
	f, err := c.c.Download(ctx, downloadToPB(r))
	if err != nil {
		return sdk.Fulfillment{}, fromStatus(ctx, err)
	}
	return sdk.Fulfillment{Links: linksFromPB(f.GetLinks())}, nil
}

func (c *grpcClient) CheckAccess(ctx context.Context, r sdk.AccessRequest) (bool, error) {
	a, err := c.c.CheckAccess(ctx, &pb.AccessRequest{Instance: r.Instance, Item: r.Item, Patron: r.Patron, Password: r.Password})
	if err != nil {
		return false, fromStatus(ctx, err)
	}
	return a.GetAccess(), nil
}

func (c *grpcClient) HandleNotification(ctx context.Context, n sdk.Notification) (sdk.Event, error) {
	e, err := c.c.HandleNotification(ctx, notificationToPB(n))
	if err != nil {
		return sdk.Event{}, fromStatus(ctx, err)
	}
	return eventFromPB(e), nil
}

func (c *grpcClient) Health(ctx context.Context, instance string) error {
	_, err := c.c.Health(ctx, &pb.HealthRequest{Instance: instance})
	return fromStatus(ctx, err)
}

func (c *grpcClient) Resolve(ctx context.Context, r sdk.ResolveRequest) (sdk.Resolution, error) {
	res, err := c.c.Resolve(ctx, resolveToPB(r))
	if err != nil {
		return sdk.Resolution{}, fromStatus(ctx, err)
	}
	return sdk.Resolution{Placed: res.GetPlaced(), Loan: loanFromPB(res.GetLoan())}, nil
}

func (c *grpcClient) Availability(ctx context.Context, r sdk.AvailabilityRequest) (sdk.Availability, error) {
	a, err := c.c.Availability(ctx, &pb.AvailabilityRequest{Instance: r.Instance, Item: r.Item})
	if err != nil {
		return sdk.Availability{}, fromStatus(ctx, err)
	}
	return availabilityFromPB(a), nil
}

func (c *grpcClient) Reconcile(ctx context.Context, r sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	p, err := c.c.Reconcile(ctx, &pb.ReconcileRequest{Instance: r.Instance, Cursor: r.Cursor, Limit: int32(r.Limit)})
	if err != nil {
		return sdk.ReconcilePage{}, fromStatus(ctx, err)
	}
	return reconcilePageFromPB(p), nil
}

var (
	_ sdk.Provider             = (*grpcClient)(nil)
	_ sdk.Resolver             = (*grpcClient)(nil)
	_ sdk.AvailabilityReporter = (*grpcClient)(nil)
	_ sdk.Reconciler           = (*grpcClient)(nil)
)
