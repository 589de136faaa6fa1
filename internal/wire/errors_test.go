package wire

import (
	"testing"
	"time"

	pb "github.com/lendgate/lendgate/internal/providerv1"
	"github.com/lendgate/lendgate/sdk"
)

func TestErrorFromPluginIsBelievedOnlySoFar(t *testing.T) {
	long := make([]byte, 1<<20)
	for i := range long {
		long[i] = 'x'
	}
	cases := []struct {
		name    string
		in      *pb.ErrorDetail
		code    sdk.Code
		pcode   string
		retryMx time.Duration
	}{
		{"unknown code", &pb.ErrorDetail{Code: "frobnicated", Message: "m"}, sdk.CodeProviderError, "frobnicated", 0},
		{"host's own code", &pb.ErrorDetail{Code: "unauthorized", Message: "m"}, sdk.CodeProviderError, "unauthorized", 0},
		{"known code", &pb.ErrorDetail{Code: "not_available", ProviderCode: "X-1"}, sdk.CodeNotAvailable, "X-1", 0},
		{"huge retry", &pb.ErrorDetail{Code: "try_later", RetryAfterMs: 1 << 62}, sdk.CodeTryLater, "", sdk.MaxRetryAfter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := errorFromDetail(c.in)
			if e.Code != c.code || e.ProviderCode != c.pcode {
				t.Errorf("got %s/%q, want %s/%q", e.Code, e.ProviderCode, c.code, c.pcode)
			}
			if e.RetryAfter != c.retryMx {
				t.Errorf("retry after %v, want %v", e.RetryAfter, c.retryMx)
			}
		})
	}
	e := errorFromDetail(&pb.ErrorDetail{Code: "provider_error", Message: string(long), ProviderCode: string(long)})
	if len(e.Message) > maxWireMessage+4 || len(e.ProviderCode) > maxWireProviderCode+4 {
		t.Errorf("texts not capped: message %d bytes, provider code %d bytes", len(e.Message), len(e.ProviderCode))
	}
}
