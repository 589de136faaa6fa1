package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// patronHeader carries the patron's identity to eHUB. Assumed: the seed does
// not say how it travels.
const patronHeader = "X-Patron-Id"

// reply is one eHUB answer as read off the wire, before any interpretation,
// so that parsing can be tested and fuzzed without a server.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request to eHUB and reads the whole answer. Only transport
// failures are errors here; what the status and body mean is up to the
// caller.
func (in *instance) call(ctx context.Context, method string, path []string, patron string, body any) (reply, error) {
	u := in.base.JoinPath(path...)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, sdk.Errorf(sdk.CodeInvalidRequest, "encoding the request: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return reply{}, sdk.Errorf(sdk.CodeInvalidRequest, "building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+in.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lendgate-ehub/"+version)
	req.Header.Set(patronHeader, patron)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return reply{}, in.scrub(sdk.TransportError(ctx, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, in.scrub(sdk.TransportError(ctx, err))
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// scrub removes the api key from an error's message. Our own messages never
// contain it, but eHUB's (which are passed on) or a transport's could echo a
// header back; the key must not leave the plugin.
func (in *instance) scrub(e *sdk.Error) *sdk.Error {
	if e != nil && in.apiKey != "" && strings.Contains(e.Message, in.apiKey) {
		e.Message = strings.ReplaceAll(e.Message, in.apiKey, "[redacted]")
	}
	return e
}

// checkoutPath is the checkout's path below base_url. The id is escaped as
// one segment: JoinPath treats its elements as already escaped and would
// otherwise let "/" or ".." in an id walk the path.
func checkoutPath(id string) []string {
	return []string{"v1", "checkouts", url.PathEscape(id)}
}
