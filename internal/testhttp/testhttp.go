// Package testhttp gives connector tests a distributor that answers without
// a network: an *http.Client whose every request gets one canned answer, any
// status and body (a fuzzer's too), so that tests go through the connector's
// real exchange (sdk.Exchange) rather than a copy of its rules.
package testhttp

import (
	"bytes"
	"io"
	"net/http"
)

// Answering returns a client that answers every request with status, header
// and body, and never follows a redirect.
func Answering(status int, header http.Header, body []byte) *http.Client {
	return &http.Client{
		Transport: canned{status: status, header: header, body: body},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// canned is a RoundTripper with one answer.
type canned struct {
	status int
	header http.Header
	body   []byte
}

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		Status:        http.StatusText(c.status),
		StatusCode:    c.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       req,
	}, nil
}
