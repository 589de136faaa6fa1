package httpapi

import "github.com/lendgate/lendgate/host/api"

// loanBody is api.Loan without its MarshalJSON: the same fields and tags,
// encoded in one pass. Encoding an api.Loan marshals it into bytes of its
// own, which the encoder then copies and checks again; a loan is in nearly
// every answer.
type loanBody api.Loan

// bodyOf is l as api.md shows it (api.Loan.Shown), to encode in one pass
// (codec_test.go holds it to api.Loan.MarshalJSON's bytes).
func bodyOf(l api.Loan) loanBody { return loanBody(l.Shown()) }
