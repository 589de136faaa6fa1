package testhttp

import (
	"io"
	"net/http"
	"testing"
)

func TestAnswering(t *testing.T) {
	c := Answering(-1, http.Header{"Retry-After": {"5"}}, []byte("body"))
	resp, err := c.Get("http://distributor.test/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != -1 || resp.Header.Get("Retry-After") != "5" || string(b) != "body" {
		t.Fatalf("got %d %v %q", resp.StatusCode, resp.Header, b)
	}
	c = Answering(http.StatusFound, http.Header{"Location": {"http://elsewhere.test/"}}, nil)
	resp, err = c.Get("http://distributor.test/x")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("a redirect was followed: %v %v", resp, err)
	}
	resp.Body.Close()
}
