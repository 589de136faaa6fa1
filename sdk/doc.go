// Package sdk is what a lendgate provider plugin is written against: plain Go
// request and response types, the Provider interface, typed errors carrying the
// unified error code, and Serve, which runs a Provider as a gRPC plugin over
// hashicorp/go-plugin, which plugin authors never see, nor protobuf: no
// exported name here has a go-plugin or gRPC type.
//
// The plugin's half of the wire (the gRPC server, its converters, the error
// status) is here, unexported, because Serve needs it; the host's half (the
// gRPC client that turns every answer back into these types) is
// internal/wire, and the values both halves share (handshake, plugin name,
// message size limit) are in internal/providerv1, so that the protocol is
// defined in exactly one place. Serve sets no global state: its logger is
// its own (WithLogger), and it returns instead of exiting the process.
//
// A minimal plugin:
//
//	type acme struct{ sdk.Unimplemented }
//
//	func (a *acme) Describe(ctx context.Context) (sdk.Info, error) { … }
//	func (a *acme) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) { … }
//
//	func main() {
//		if err := sdk.Serve(&acme{}); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Keep each instance's settings in an Instances (set in Configure, got in
// every operation), check a base URL with BaseURL, talk to the distributor
// through an Exchange (HTTPClient's client, an ErrorTable for its error
// answers, Retry-After, no secrets or addresses in messages), and return
// errors made with Errorf so that the host and the library see the unified
// code and the distributor's own: an error that is not an *Error reaches the
// host as a generic provider_error, and the conformance kit (sdk/sdktest)
// fails it. Declare in Info what is true of the distributor (DedupesCheckout
// only when it deduplicates by the loan id; Secrets for the settings that are
// secrets): the kit checks the claims against the plugin's simulator. What
// each operation answers, and what a Loan's ProviderRef and Links may hold
// (the library sees both), is on Loan and Link.
package sdk
