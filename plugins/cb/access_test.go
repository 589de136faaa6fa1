package main

import (
	"strings"
	"testing"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

const patronPassword = "patron-pw-S3cr3t"

func TestCheckAccess(t *testing.T) {
	f := setup(t, cbsim.WithUser("p1", patronPassword))
	if _, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "loan-1", "p1")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, item, patron, password string
		want                         bool
	}{
		{"ordered", cbsim.EANAvailable, "p1", patronPassword, true},
		{"not ordered", cbsim.EANAvailable2, "p1", patronPassword, false},
		{"wrong password", cbsim.EANAvailable, "p1", "nope", false},
		{"unknown user (EBS-10038)", cbsim.EANAvailable, "p9", patronPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.p.CheckAccess(f.ctx, sdk.AccessRequest{Instance: "cb-test", Item: tt.item, Patron: tt.patron, Password: tt.password})
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	calls := f.sim.Calls()
	for _, r := range []sdk.AccessRequest{
		{Instance: "cb-test", Item: "9999999999999", Patron: "p1", Password: patronPassword},
		{Instance: "cb-test", Item: cbsim.EANAvailable, Patron: "", Password: patronPassword},
		{Instance: "cb-test", Item: cbsim.EANAvailable, Patron: "p1", Password: ""},
	} {
		_, err := f.p.CheckAccess(f.ctx, r)
		wantCode(t, err, sdk.CodeInvalidRequest, "")
	}
	if f.sim.Calls() != calls {
		t.Fatal("an invalid access check reached CB")
	}
}

// TestPasswordsNeverLeak runs access checks through every failure and checks
// that neither the patron's password nor the instance's appears in an error
// or in the log, at Trace level.
func TestPasswordsNeverLeak(t *testing.T) {
	f := setup(t, cbsim.WithUser("p1", patronPassword))
	req := sdk.AccessRequest{Instance: "cb-test", Item: cbsim.EANAvailable, Patron: "p1", Password: patronPassword}
	var errs []string
	for _, faults := range []cbsim.Faults{{Status: 500}, {Garbage: true}, {Drop: true}, {RetryAfter: 5e9}, {}} {
		f.sim.SetFaults(faults)
		if _, err := f.p.CheckAccess(f.ctx, req); err != nil {
			errs = append(errs, err.Error())
		}
	}
	// CB echoing the password in a message, or refusing a field.
	for _, body := range []string{
		ebsBody("EBS-10070", "UserPassword "+patronPassword+" is malformed"),
		ebsBody("EBS-99999", "bad "+patronPassword+" / "+testPassword),
	} {
		_, err := cannedAccess(f.p, 400, []byte(body), patronPassword)
		if err == nil {
			t.Fatalf("%s: no error", body)
		}
		errs = append(errs, err.Error())
	}
	if len(errs) != 6 {
		t.Fatalf("errors %q", errs)
	}
	all := strings.Join(errs, "\n") + f.logs.String()
	for _, secret := range []string{patronPassword, testPassword} {
		if strings.Contains(all, secret) {
			t.Fatalf("%q leaked:\n%s", secret, all)
		}
	}
	if !strings.Contains(f.logs.String(), "[redacted]") {
		t.Fatalf("the refused field was not logged:\n%s", f.logs)
	}
}
