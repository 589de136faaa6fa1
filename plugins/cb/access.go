package main

import (
	"context"

	"github.com/lendgate/lendgate/sdk"
)

// checkAccessRequest is checkAccess's body. UserPassword is the patron's
// secret: the request is never logged and the value never kept.
type checkAccessRequest struct {
	EAN          string `json:"EAN"`
	UserID       string `json:"UserId"`
	UserPassword string `json:"UserPassword"`
}

// CheckAccess asks CB whether the (Bookshelf/VitalSource) user r.Patron has
// access to r.Item. An unknown user (EBS-10038) has no access, not an error.
func (p *provider) CheckAccess(ctx context.Context, r sdk.AccessRequest) (bool, error) {
	in, err := p.instance(r.Instance)
	if err != nil {
		return false, err
	}
	if err := firstError(checkItem(r.Item), checkPatron(r.Patron)); err != nil {
		return false, err
	}
	if r.Password == "" {
		return false, sdk.Errorf(sdk.CodeInvalidRequest, "password is required")
	}
	a, err := p.call(ctx, in, opCheckAccess, checkAccessRequest{EAN: r.Item, UserID: r.Patron, UserPassword: r.Password}, r.Password)
	var ok bool
	if err == nil {
		ok, err = p.parseAccess(in, a, r.Password)
	}
	if e := sdk.AsError(err); e != nil && e.ProviderCode == ebsUserUnknown {
		return false, nil
	}
	return ok, err
}
