package main

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/sdk"
)

// cannedCall makes one checkout call to an eHUB that answers status, header
// and body, through the connector's real client, and reads its answer as
// Checkout does.
func cannedCall(key string, status int, header http.Header, body []byte, now time.Time) (sdk.Loan, error) {
	p := newProvider()
	p.log = hclog.NewNullLogger()
	p.now = func() time.Time { return now }
	if key == "" {
		key = "test-key"
	}
	in, err := p.newInstance("canned", map[string]string{settingBaseURL: "https://ehub.test", settingAPIKey: key},
		testhttp.Answering(status, header, body))
	if err != nil {
		return sdk.Loan{}, err
	}
	a, err := p.call(context.Background(), in, "p", sdk.Request{Method: http.MethodPost, Path: "v1/checkouts"})
	if err != nil {
		return sdk.Loan{}, err
	}
	return p.parseCheckout(a, "")
}
