package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// CheckAccess asks the distributor whether a patron has access to an item.
// The password goes to the plugin only; it is never logged or stored.
func (h *Host) CheckAccess(ctx context.Context, provider string, r AccessCheckRequest) (a AccessCheck, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "access_check", "", start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return AccessCheck{}, err
	}
	if r, err = in.validAccessCheck(r); err != nil {
		return AccessCheck{}, err
	}
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		a.Access, err = p.CheckAccess(ctx, sdk.AccessRequest{Instance: in.name, Item: r.Item, Patron: h.patronKey(in, r.Patron), Password: r.Password})
		return err
	})
	return a, err
}
