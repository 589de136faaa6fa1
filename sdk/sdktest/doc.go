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
//   - describe: a name, a version, known capability names, formats, secret
//     setting names;
//   - configure: two instances accept their settings, the first again (as
//     on a swap), and both report healthy;
//   - capability/*: every declared capability, exercised with the samples
//     (checkout, then fulfill, renew, notifications, resolve, reconcile and
//     return on that loan; download; access check; availability), and, with
//     Config.Effects, whether each call that changes something at the
//     distributor reached it (a stub that answers success fails). A checkout
//     that asks for days must answer an expiry in the future and within
//     those days (Config.ExpiryTolerance for the distributor's rounding); a
//     renewal must answer the loan's new, later expiry; links have a known
//     rel (content, supplement, manifest, stream) and a media type that
//     parses; resolve must find the sample's loan placed; availability's
//     counts must add up (owned ≥ available ≥ 0, each licence's terms);
//     reconcile must list a loan the kit just placed, by its loan id or its
//     provider ref, and its paging must end;
//   - claim/*: what Describe declares about the distributor, against what
//     the simulator did: with DedupesCheckout one loan id sent twice leaves
//     one loan (Effects.Checkouts counts them; required with the claim),
//     with DedupesRenew one renewal id sent twice extends the loan once
//     (Effects.Renewals), with DedupesReturn a second return answers the
//     returned loan;
//   - effects: skipped, naming the operations left unchecked, when
//     Config.Effects is empty;
//   - undeclared/*: every capability not declared answers
//     unsupported_operation;
//   - error_case/*: the errors of Config.ErrorCases cross the wire with their
//     unified code, provider code, retry-after and the scope of its pause
//     (ErrorCase.Scope); with the kit's Server as Config.Faults, an answer of
//     provider_error to a call the simulator refused with a 4xx fails too,
//     naming the distributor's code the error table misses;
//   - deadline: a call slower than its deadline (Config.Slow, or a checkout
//     under FaultSlow) answers provider_timeout, and the plugin's method
//     itself gives up within Config.Slack (1 s): in Provider mode the kit
//     sees the method return, with a binary it reads the line sdk.Serve
//     logs when a method returns after its call ended;
//   - fault/<op>/<fault>: with Config.Faults, every Fault (a gateway's 502,
//     a 429 with Retry-After, garbage, a cut connection, a slow answer, and
//     the four that lose the answer after the distributor acted) driven
//     through checkout, renew and return (those declared), whether or not
//     the error cases list it: each must answer its unified code and
//     outcome class (sdk.OutcomeOf: unknown wherever the request may have
//     acted), a 429 its retry-after scoped to the instance; after a lost
//     checkout answer the simulator holds one loan, and a resend (with
//     DedupesCheckout) or Resolve finds it rather than ordering again;
//     skipped, and saying so, without Config.Faults;
//   - transport_failure: with every URL setting pointed at a closed port,
//     the first declared operation answers provider_error or
//     provider_timeout as an *sdk.Error whose message names no address,
//     and whose outcome is not definitive (not_sent is right);
//   - unknown_instance: a call for an instance never configured answers an
//     error with a unified code, not a success, a transport failure or a panic;
//   - concurrent_checkouts: Config.Concurrency (32) checkouts at once over
//     the two instances, while both are configured again, answer a loan or
//     a unified code, never a transport failure;
//   - panic_recovery: the SDK this module builds against turns a panic into
//     provider_error and keeps serving (checked on a small plugin of the
//     kit's own, built with the go command and run as a real process);
//   - typed_errors: no answer of the whole run was an error other than an
//     *sdk.Error (the SDK marks those on the wire); each is named with its
//     operation, its check and the fix;
//   - secrets: no secret of the run (a setting named in Info.Secrets or
//     named like a password, key or token; Config.Access's password) in any
//     error, loan, link, provider ref, event, or line of the plugin's log
//     (its stderr, with a binary) across the whole run;
//   - races (Binary mode): the plugin's race detector reported nothing.
//     Under go test -race, Build builds the plugin with -race; otherwise the
//     check is skipped, and says how to run it;
//   - unified_codes (Provider mode): what the plugin returned on its side
//     of the wire used only unified codes;
//   - no_panics: the plugin never panicked, each panic named with its value
//     and the first frame of the plugin's own code. A check whose call met
//     a panic names it the same way, not as the provider_error it became.
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
//		srv := sdktest.Simulator(t, sim) // also the fault hook
//		checkout := sdk.CheckoutRequest{Item: acmesim.ISBNAvailable, Patron: "reader-1", Format: "epub", Days: 14}
//		sdktest.Run(t, sdktest.Config{
//			Binary:   sdktest.Build(t, "."), // or Provider: newProvider()
//			Settings: map[string]string{"base_url": srv.URL, "api_key": acmesim.APIKey, sdk.SettingAllowInsecureHTTP: "true"},
//			Checkout: checkout,
//			Faults:   srv,
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
//		})
//	}
//
// List one error case per row of the plugin's error table: the kit drives
// the failures every distributor has (Fault) by itself, but only the
// author knows which answer of the simulator says "patron limit".
//
// Subtests run one after the other, so a sample or error case may change its
// simulator (inject a fault) and put it back before it returns.
package sdktest
