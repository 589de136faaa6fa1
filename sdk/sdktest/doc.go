// Package sdktest is the conformance kit of lendgate provider plugins: what a
// plugin author runs in `go test` to prove that a plugin keeps the protocol
// the host relies on (plugins.md "The SDK a third party writes against").
//
// Run takes a plugin, either a built binary (started exactly as the host
// starts it, by the same code: a private copy checked against its hash, the
// go-plugin handshake, AutoMTLS, gRPC only, the parent-death signal, no host
// environment) or a Provider value (served in this process by sdk.Serve's
// in-process mode, on the same gRPC server a plugin process runs, with its
// message size limits and panic recovery, and called through the host's own
// side of the wire), plus samples that the plugin's simulator accepts, and
// checks in named subtests:
//
//   - handshake: the binary starts, speaks gRPC and negotiates
//     sdk.ProtocolVersion, and refuses to run without the host's magic cookie;
//   - describe: a name, a version, known capability names, formats;
//   - configure: the instance accepts its settings (twice, as on a swap) and
//     reports healthy;
//   - capability/*: every declared capability, exercised with the samples
//     (checkout, then fulfill, renew, notifications and return on that loan;
//     download; access check), and, with Config.Effects, whether each call
//     that changes something at the distributor reached it (a stub that
//     answers success fails);
//   - effects: skipped, naming the operations left unchecked, when
//     Config.Effects is empty;
//   - undeclared/*: every capability not declared answers
//     unsupported_operation;
//   - error_case/*: the errors of Config.ErrorCases cross the wire with their
//     unified code, provider code and retry-after;
//   - deadline: a call slower than its deadline answers provider_timeout,
//     and the plugin's method itself gives up within Config.Slack (1 s): in
//     Provider mode the kit sees the method return, with a binary it reads
//     the line sdk.Serve logs when a method returns after its call ended;
//   - transport_failure: with every URL setting pointed at a closed port,
//     the first declared operation answers provider_error or
//     provider_timeout as an *sdk.Error whose message names no address;
//   - unknown_instance: a call for an instance never configured answers an
//     error with a unified code, not a success, a transport failure or a panic;
//   - concurrent_checkouts: 32 checkouts at once answer a loan or a unified
//     code, never a transport failure;
//   - panic_recovery: the SDK this module builds against turns a panic into
//     provider_error and keeps serving (checked on a small plugin of the
//     kit's own, built with the go command and run as a real process);
//   - typed_errors: no answer of the whole run was an error other than an
//     *sdk.Error (the SDK marks those on the wire); each is named with its
//     operation, its check and the fix;
//   - unified_codes, no_panics (Provider mode): what the plugin returned on
//     its side of the wire used only unified codes and never panicked.
//
// Every callback the kit runs (an error case, Slow, an effects hook) is
// bounded by Config.CheckTimeout: one that hangs fails its own check, by
// name. Serve the simulator with Simulator rather than httptest.NewServer:
// a simulator handler that sleeps past the plugin's deadline is then left
// behind, and named, instead of holding the test's end for its full sleep.
//
// # Usage
//
// A plugin with a simulator package runs the kit from its own tests:
//
//	func TestConformance(t *testing.T) {
//		sim := acmesim.New()
//		srv := sdktest.Simulator(t, sim)
//		checkout := sdk.CheckoutRequest{Item: acmesim.ISBNAvailable, Patron: "reader-1", Format: "epub", Days: 14}
//		sdktest.Run(t, sdktest.Config{
//			Binary:   sdktest.Build(t, "."), // or Provider: newProvider()
//			Settings: map[string]string{"base_url": srv.URL, "api_key": acmesim.APIKey, sdk.SettingAllowInsecureHTTP: "true"},
//			Checkout: checkout,
//			Effects: sdktest.Effects{
//				Checkout: func(_ sdk.CheckoutRequest, l sdk.Loan) bool { return sim.Lent(l.ProviderRef["acme_loan_id"]) },
//				Return:   func(l sdk.LoanRef) bool { return sim.Returned(l.ProviderRef["acme_loan_id"]) },
//			},
//			ErrorCases: []sdktest.ErrorCase{{
//				Name: "no copies left",
//				Call: func(ctx context.Context, p sdk.Provider, instance string) error {
//					r := checkout
//					r.Instance, r.LoanID, r.Item = instance, "ln_no_copies", acmesim.ISBNNoCopies
//					_, err := p.Checkout(ctx, r)
//					return err
//				},
//				Code: sdk.CodeNotAvailable, ProviderCode: "NO_COPIES",
//			}},
//			Slow: func(ctx context.Context, p sdk.Provider, instance string) error {
//				sim.SetFaults(acmesim.Faults{Latency: time.Minute})
//				defer sim.SetFaults(acmesim.Faults{})
//				r := checkout
//				r.Instance, r.LoanID = instance, "ln_slow"
//				_, err := p.Checkout(ctx, r)
//				return err
//			},
//		})
//	}
//
// Subtests run one after the other, so a sample or error case may change its
// simulator (inject a fault) and put it back before it returns.
package sdktest
