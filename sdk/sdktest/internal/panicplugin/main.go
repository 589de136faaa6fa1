// Command panicplugin is the conformance kit's own plugin: its Checkout
// panics. sdktest builds it against the SDK version of the module under test
// and checks that sdk.Serve turns the panic into provider_error and keeps
// serving, the recovery every plugin gets from sdk.Serve.
package main

import (
	"context"
	"log"

	"github.com/lendgate/lendgate/sdk"
)

type panicking struct{ sdk.Unimplemented }

func (panicking) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "sdktest-panic", Version: "1.0.0", Capabilities: []sdk.Capability{sdk.CapCheckout}, Formats: []string{"epub"}}, nil
}

func (panicking) Checkout(context.Context, sdk.CheckoutRequest) (sdk.Loan, error) {
	var refs map[string]string
	refs["boom"] = "a nil map write, the kind of bug a distributor's odd answer exposes"
	return sdk.Loan{ProviderRef: refs}, nil
}

func main() {
	if err := sdk.Serve(panicking{}); err != nil {
		log.Fatal(err)
	}
}
