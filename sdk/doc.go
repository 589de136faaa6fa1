// Package sdk is what a lendgate provider plugin is written against: plain Go
// request and response types, the Provider interface, typed errors carrying the
// unified error code, and Serve, which runs a Provider as a hashicorp/go-plugin
// gRPC plugin. Plugin authors never see go-plugin or protobuf.
//
// The host side of the same wire (the handshake, the versioned plugin set and
// the gRPC client that turns every answer back into these types) lives here
// too, so that the protocol is defined in exactly one place.
//
// A minimal plugin:
//
//	type acme struct{ sdk.Unimplemented }
//
//	func (a *acme) Describe(ctx context.Context) (sdk.Info, error) { … }
//	func (a *acme) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) { … }
//
//	func main() { sdk.Serve(&acme{}) }
//
// Keep each instance's settings in an Instances (set in Configure, got in
// every operation), check a base URL with BaseURL, talk to the distributor
// through an Exchange (HTTPClient's client, an ErrorTable for its error
// answers, Retry-After, no secrets or addresses in messages), and return
// errors made with Errorf so that the host and the library see the unified
// code and the distributor's own: an error that is not an *Error reaches the
// host as a generic provider_error, and the conformance kit (sdk/sdktest)
// fails it.
package sdk
