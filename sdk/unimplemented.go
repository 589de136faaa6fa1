package sdk

import "context"

// Unimplemented answers CodeUnsupportedOperation for every operation. Embed it
// in a Provider and override what the distributor offers. Its Configure
// accepts any settings and its Health reports healthy.
type Unimplemented struct{}

func unsupported(op string) error {
	return Errorf(CodeUnsupportedOperation, "%s is not offered by this provider", op)
}

func (Unimplemented) Describe(context.Context) (Info, error) { return Info{}, unsupported("describe") }
func (Unimplemented) Configure(context.Context, string, map[string]string) error {
	return nil
}
func (Unimplemented) Checkout(context.Context, CheckoutRequest) (Loan, error) {
	return Loan{}, unsupported("checkout")
}
func (Unimplemented) Fulfill(context.Context, FulfillRequest) (Fulfillment, error) {
	return Fulfillment{}, unsupported("fulfillment")
}
func (Unimplemented) Renew(context.Context, RenewRequest) (Loan, error) {
	return Loan{}, unsupported("renewal")
}
func (Unimplemented) Return(context.Context, ReturnRequest) (Loan, error) {
	return Loan{}, unsupported("return")
}
func (Unimplemented) Download(context.Context, DownloadRequest) (Fulfillment, error) {
	return Fulfillment{}, unsupported("download")
}
func (Unimplemented) CheckAccess(context.Context, AccessRequest) (bool, error) {
	return false, unsupported("access check")
}
func (Unimplemented) HandleNotification(context.Context, Notification) (Event, error) {
	return Event{}, unsupported("notifications")
}
func (Unimplemented) Health(context.Context, string) error { return nil }

var _ Provider = Unimplemented{}
