package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Download returns a link for a purchased publication (De Marque 2.3). The
// link is short-lived: send the browser to it at once.
func (h *Host) Download(ctx context.Context, provider string, r DownloadRequest) (f Fulfillment, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "download", "", start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Fulfillment{}, err
	}
	if r, err = in.validDownload(r); err != nil {
		return Fulfillment{}, err
	}
	var got sdk.Fulfillment
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		got, err = p.Download(ctx, sdk.DownloadRequest{Instance: in.name, Customer: r.Customer, Transaction: r.Transaction,
			Item: r.Item, Format: r.Format, PatronName: r.PatronName})
		return err
	})
	if err != nil {
		return Fulfillment{}, err
	}
	return Fulfillment{Links: linksFromSDK(got.Links)}, nil
}
