package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/lendgate/lendgate/sdk"
)

// call sends req with the instance's client and returns the URL the warehouse
// answered or a unified error. req must carry the caller's ctx so the host's
// deadline applies to the whole exchange, body included.
func (p *provider) call(ctx context.Context, in *instance, req *http.Request) (string, *sdk.Error) {
	resp, err := in.client.Do(req)
	if err != nil {
		return "", sdk.TransportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", sdk.TransportError(ctx, err)
	}
	return parseAnswer(resp.StatusCode, resp.Header, body, p.now())
}

// inContext prefixes e's message with the operation and format, so that every
// error's detail names the format (one ISBN per format is a common mistake),
// and logs the warehouse telling us our own request was invalid: that is a
// gap in our local validation.
func (p *provider) inContext(e *sdk.Error, op, instance, format string) *sdk.Error {
	if e == nil {
		return nil
	}
	if e.Code == sdk.CodeInvalidRequest && e.ProviderCode != "" {
		p.logger().Error("the warehouse refused a request our validation let through", "op", op, "instance", instance, "format", format, "provider_code", e.ProviderCode)
	}
	e.Message = fmt.Sprintf("%s (%s): %s", op, format, e.Message)
	return e
}
