package httpapi

import "github.com/lendgate/lendgate/host/api"

// loanBody is api.Loan without its MarshalJSON: the same fields and tags,
// encoded in one pass. Encoding an api.Loan marshals it into bytes of its
// own, which the encoder then copies and checks again; a loan is in nearly
// every answer.
type loanBody api.Loan

// bodyOf is l as api.Loan.MarshalJSON shows it: only an active loan
// carries links, and links is always a list (codec_test.go holds the two
// to the same bytes).
func bodyOf(l api.Loan) loanBody {
	b := loanBody(l)
	if l.Status != api.StatusActive || b.Links == nil {
		b.Links = []api.Link{}
	}
	return b
}
