package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

func TestDescribe(t *testing.T) {
	info, err := newProvider().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "demarque" || info.Version != version {
		t.Fatalf("name/version: %q %q", info.Name, info.Version)
	}
	for _, c := range []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapDownload, sdk.CapNotifications} {
		if !info.Has(c) {
			t.Errorf("capability %s missing", c)
		}
	}
	for _, c := range []sdk.Capability{sdk.CapRenew, sdk.CapReturn, sdk.CapAccessCheck} {
		if info.Has(c) {
			t.Errorf("capability %s must not be declared", c)
		}
	}
	if !slices.Equal(info.Formats, []string{"epub", "pdf", "mobi"}) {
		t.Errorf("formats: %v", info.Formats)
	}
	want := map[string][]string{
		"loan_url": {}, "medium": {"download", "streaming"}, "localisation": {"on-site", "off-site"},
		"duration": {}, "ip_address": {},
	}
	if len(info.Options) != len(want) {
		t.Errorf("options: %v", info.Options)
	}
	for k, v := range want {
		if got, ok := info.Options[k]; !ok || !slices.Equal(got, v) {
			t.Errorf("option %s: %v, want %v", k, got, v)
		}
	}
}

func TestConfigureValidation(t *testing.T) {
	const secret = "hunter2-very-secret"
	valid := func() map[string]string {
		return map[string]string{
			settingBaseURL: "https://warehouse.example", settingOrganisation: "123",
			settingUsername: "library", settingPassword: secret,
		}
	}
	tests := []struct {
		name   string
		change map[string]string // "" deletes
		key    string            // the key the error must name; "" = no error
	}{
		{"valid https", nil, ""},
		{"http with allow_insecure_http", map[string]string{settingBaseURL: "http://127.0.0.1:1", sdk.SettingAllowInsecureHTTP: "true"}, ""},
		{"http refused", map[string]string{settingBaseURL: "http://warehouse.example"}, settingBaseURL},
		{"base_url missing", map[string]string{settingBaseURL: ""}, settingBaseURL},
		{"base_url relative", map[string]string{settingBaseURL: "/api"}, settingBaseURL},
		{"base_url with credentials", map[string]string{settingBaseURL: "https://u:" + secret + "@warehouse.example"}, settingBaseURL},
		{"base_url with query", map[string]string{settingBaseURL: "https://warehouse.example/?k=" + secret}, settingBaseURL},
		{"organisation missing", map[string]string{settingOrganisation: ""}, settingOrganisation},
		{"username missing", map[string]string{settingUsername: ""}, settingUsername},
		{"password missing", map[string]string{settingPassword: ""}, settingPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			for k, v := range tt.change {
				if v == "" {
					delete(s, k)
				} else {
					s[k] = v
				}
			}
			p := newProvider()
			err := p.Configure(context.Background(), "i", s)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				if err := p.Health(context.Background(), "i"); err != nil {
					t.Fatalf("Health: %v", err)
				}
				return
			}
			e := wantError(t, err, sdk.CodeInvalidRequest, "", "")
			if !strings.Contains(e.Message, tt.key) || strings.Contains(e.Message, secret) {
				t.Fatalf("message %q must name %q and never the secret", e.Message, tt.key)
			}
			if err := p.Health(context.Background(), "i"); sdk.CodeOf(err) != sdk.CodeProviderCredentials {
				t.Fatalf("a refused configuration must not configure the instance: %v", err)
			}
		})
	}
}

func TestUnknownInstance(t *testing.T) {
	ctx := context.Background()
	p := newProvider()
	_, checkoutErr := p.Checkout(ctx, sdk.CheckoutRequest{Instance: "nope"})
	_, fulfillErr := p.Fulfill(ctx, sdk.FulfillRequest{Instance: "nope"})
	_, downloadErr := p.Download(ctx, sdk.DownloadRequest{Instance: "nope"})
	_, notifyErr := p.HandleNotification(ctx, sdk.Notification{Instance: "nope"})
	for name, err := range map[string]error{
		"checkout": checkoutErr, "fulfill": fulfillErr, "download": downloadErr,
		"notification": notifyErr, "health": p.Health(ctx, "nope"),
	} {
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeProviderCredentials || !strings.Contains(e.Message, "not configured") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUnsupportedOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, renewErr := e.p.Renew(ctx, sdk.RenewRequest{Instance: testInstance})
	_, returnErr := e.p.Return(ctx, sdk.ReturnRequest{Instance: testInstance})
	_, accessErr := e.p.CheckAccess(ctx, sdk.AccessRequest{Instance: testInstance})
	for _, err := range []error{renewErr, returnErr, accessErr} {
		if sdk.CodeOf(err) != sdk.CodeUnsupportedOperation {
			t.Errorf("got %v", err)
		}
	}
	if e.sim.Calls() != 0 {
		t.Fatalf("unsupported operations called the warehouse")
	}
}

func TestHealthDoesNotCallTheWarehouse(t *testing.T) {
	e := newEnv(t)
	if err := e.p.Health(context.Background(), testInstance); err != nil {
		t.Fatal(err)
	}
	if e.sim.Calls() != 0 {
		t.Fatalf("health called the warehouse %d times", e.sim.Calls())
	}
}
