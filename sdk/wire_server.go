package sdk

import (
	"context"
	"fmt"
	"runtime/debug"

	"log/slog"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"google.golang.org/grpc"
)

// grpcServer adapts a Provider to the generated gRPC service; log is where
// the errors that cannot cross the wire as they are go.
type grpcServer struct {
	pb.UnimplementedProviderServer
	impl Provider
	log  *slog.Logger
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.Info, error) {
	info, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return infoToPB(info), nil
}

func (s *grpcServer) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if err := s.impl.Configure(ctx, r.GetInstance(), r.GetSettings()); err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.ConfigureResponse{}, nil
}

func (s *grpcServer) Checkout(ctx context.Context, r *pb.CheckoutRequest) (*pb.Loan, error) {
	l, err := s.impl.Checkout(ctx, checkoutFromPB(r))
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return loanToPB(l), nil
}

func (s *grpcServer) Fulfill(ctx context.Context, r *pb.FulfillRequest) (*pb.Fulfillment, error) {
	f, err := s.impl.Fulfill(ctx, FulfillRequest{Instance: r.GetInstance(), Loan: loanRefFromPB(r.GetLoan()), Format: r.GetFormat()})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.Fulfillment{Links: linksToPB(f.Links)}, nil
}

func (s *grpcServer) Renew(ctx context.Context, r *pb.RenewRequest) (*pb.Loan, error) {
	l, err := s.impl.Renew(ctx, RenewRequest{Instance: r.GetInstance(), Loan: loanRefFromPB(r.GetLoan()), Days: int(r.GetDays()), RenewalID: r.GetRenewalId()})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return loanToPB(l), nil
}

func (s *grpcServer) Return(ctx context.Context, r *pb.ReturnRequest) (*pb.Loan, error) {
	l, err := s.impl.Return(ctx, ReturnRequest{Instance: r.GetInstance(), Loan: loanRefFromPB(r.GetLoan())})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return loanToPB(l), nil
}

func (s *grpcServer) Download(ctx context.Context, r *pb.DownloadRequest) (*pb.Fulfillment, error) {
	f, err := s.impl.Download(ctx, downloadFromPB(r))
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.Fulfillment{Links: linksToPB(f.Links)}, nil
}

func (s *grpcServer) CheckAccess(ctx context.Context, r *pb.AccessRequest) (*pb.AccessResponse, error) {
	ok, err := s.impl.CheckAccess(ctx, AccessRequest{Instance: r.GetInstance(), Item: r.GetItem(), Patron: r.GetPatron(), Password: r.GetPassword()})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.AccessResponse{Access: ok}, nil
}

func (s *grpcServer) HandleNotification(ctx context.Context, r *pb.Notification) (*pb.Event, error) {
	e, err := s.impl.HandleNotification(ctx, notificationFromPB(r))
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return eventToPB(e), nil
}

func (s *grpcServer) Health(ctx context.Context, r *pb.HealthRequest) (*pb.HealthResponse, error) {
	if err := s.impl.Health(ctx, r.GetInstance()); err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.HealthResponse{}, nil
}

// Resolve serves the optional Resolver; a plugin without it answers
// Unimplemented, which the host reads as unsupported_operation.
func (s *grpcServer) Resolve(ctx context.Context, r *pb.ResolveRequest) (*pb.Resolution, error) {
	rv, ok := s.impl.(Resolver)
	if !ok {
		return nil, toStatus(s.log, unsupported("resolve"))
	}
	res, err := rv.Resolve(ctx, resolveFromPB(r))
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return &pb.Resolution{Placed: res.Placed, Loan: loanToPB(res.Loan)}, nil
}

// Availability serves the optional AvailabilityReporter, as Resolve does
// Resolver.
func (s *grpcServer) Availability(ctx context.Context, r *pb.AvailabilityRequest) (*pb.ItemAvailability, error) {
	ar, ok := s.impl.(AvailabilityReporter)
	if !ok {
		return nil, toStatus(s.log, unsupported("availability"))
	}
	a, err := ar.Availability(ctx, AvailabilityRequest{Instance: r.GetInstance(), Item: r.GetItem()})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return availabilityToPB(a), nil
}

// Reconcile serves the optional Reconciler, as Resolve does Resolver.
func (s *grpcServer) Reconcile(ctx context.Context, r *pb.ReconcileRequest) (*pb.ReconcilePage, error) {
	rc, ok := s.impl.(Reconciler)
	if !ok {
		return nil, toStatus(s.log, unsupported("reconcile"))
	}
	p, err := rc.Reconcile(ctx, ReconcileRequest{Instance: r.GetInstance(), Cursor: r.GetCursor(), Limit: int(r.GetLimit())})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	return reconcilePageToPB(p), nil
}

// recoverPanics turns a panic in a plugin's method into CodeProviderError, so
// that one bad answer from a distributor never takes the plugin process (and
// every instance it serves) down. It also gives the method Serve's logger
// (Logger).
func recoverPanics(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("plugin panicked", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = toStatus(log, Errorf(CodeProviderError, "the plugin failed while handling %s", info.FullMethod))
			}
		}()
		defer noteOverrun(ctx, log, info.FullMethod)
		return handler(context.WithValue(ctx, loggerKey{}, log), req)
	}
}
