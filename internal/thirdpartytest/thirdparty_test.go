// Package thirdpartytest follows examples/thirdparty/README.md ("Write a
// provider plugin in 15 minutes") the way a newcomer would, in a temporary
// directory: the third party's module is a module of its own, outside this
// one's `go test ./...`, so this test is what keeps the page and the example
// working. It builds the plugin with the go command (offline, from the
// module cache), runs the third party's own tests (the conformance kit
// included), pins the binary's SHA-256 in the README's host config (saved
// beside the module, its relative paths resolved against it), and lends,
// fulfills and returns through a real host from the third party's own
// simulator.
//
// It lives in the main module, not beside the guide: it drives a real host
// and the repository's internal test helpers, which the guide's own module
// (example.com/acme-lending) may not import.
package thirdpartytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/internal/testlog"
	"github.com/lendgate/lendgate/sdk"
)

// The simulator's test data (example.com/acme-lending/acmesim, a module this
// one cannot import).
const (
	isbnAvailable   = "9781861972712"
	isbnAvailable10 = "1861972717" // the same book as ISBN-10
	isbnNoCopies    = "9780140449136"
	isbnUnknown     = "9780000000019"
)

// The README's placeholders: the checksum, and the simulator's address.
const (
	pinPlaceholder = "PASTE-THE-SHA256-HERE"
	readmeSimURL   = "http://127.0.0.1:8090"
)

func TestWriteAPluginIn15Minutes(t *testing.T) {
	goTool := testbin.GoTool()
	if _, err := exec.LookPath(goTool); err != nil {
		t.Skipf("the go command is needed to follow the README: %v", err)
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(repo, "examples", "thirdparty")
	readme, err := os.ReadFile(filepath.Join(src, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	configJSON := checkReadmeFiles(t, string(readme), src)

	// 1. The module, with its replace pointed at this checkout.
	dir := filepath.Join(t.TempDir(), "acme-lending")
	copyTree(t, src, dir)
	replaceRepo(t, filepath.Join(dir, "go.mod"), repo)
	gocmd := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = dir
		// Offline from the module cache, with the go that runs this test;
		// read-only, so that a go.mod the repository let go stale (a
		// newcomer's first build would stop at "go mod tidy") fails here.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// 4. Build it and take its checksum.
	gocmd("build", "-o", "bin/lendgate-plugin-acme", ".")
	sum := testbin.SHA256(t, filepath.Join(dir, "bin", "lendgate-plugin-acme"))

	// 6. The third party's own checks, the conformance kit among them.
	gocmd("vet", "./...")
	gocmd("test", "-count=1", "./...")

	// 7. The simulator, the host with the README's config, a loan.
	gocmd("build", "-o", "bin/acmesim", "./cmd/acmesim")
	simURL, apiKey := startSim(t, filepath.Join(dir, "bin", "acmesim"))
	cfg := readmeConfig(t, configJSON, dir, sum, simURL, apiKey)
	logs := &testlog.Buffer{}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	h, err := host.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("host.New with the README's config: %v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	lend(t, h, sum, cfg.APIKeys[0])
}

// checkReadmeFiles checks that every block the README marks with
// "<!-- file: NAME -->" is that file of the example, word for word, and
// returns the block marked "<!-- config -->".
func checkReadmeFiles(t *testing.T, readme, dir string) string {
	t.Helper()
	block := regexp.MustCompile("(?s)<!-- (file: ([\\w./-]+)|config) -->\n```\\w*\n(.*?)\n```")
	var config string
	seen := map[string]bool{}
	for _, m := range block.FindAllStringSubmatch(readme, -1) {
		if m[1] == "config" {
			config = m[3]
			continue
		}
		name := m[2]
		seen[name] = true
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("README shows %s, which the example does not have: %v", name, err)
			continue
		}
		if strings.TrimRight(string(b), "\n") != m[3] {
			t.Errorf("README's %s differs from examples/thirdparty/%s: copy the file into the page again", name, name)
		}
	}
	for _, name := range []string{"main.go", "acme.go", "conformance_test.go"} {
		if !seen[name] {
			t.Errorf("README does not show %s", name)
		}
	}
	if config == "" {
		t.Fatal("README has no <!-- config --> block")
	}
	return config
}

// copyTree copies the example's files (not its build output) to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == "bin":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the example: %v", err)
	}
}

// replaceRepo points the module's replace directive at this checkout, as
// the README's second recipe does with ../lendgate.
func replaceRepo(t *testing.T, gomod, repo string) {
	t.Helper()
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	const rel = "replace github.com/lendgate/lendgate => ../..\n"
	if !bytes.Contains(b, []byte(rel)) {
		t.Fatalf("examples/thirdparty/go.mod has no %q", rel)
	}
	b = bytes.Replace(b, []byte(rel), []byte("replace github.com/lendgate/lendgate => "+repo+"\n"), 1)
	if err := os.WriteFile(gomod, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startSim runs the third party's simulator on a free loopback port and
// returns the base URL and API key it prints.
func startSim(t *testing.T, bin string) (baseURL, apiKey string) {
	t.Helper()
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting acmesim: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 2)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for i := 0; i < 2 && sc.Scan(); i++ {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	var got []string
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("acmesim exited after printing %q", got)
			}
			got = append(got, l)
		case <-timeout.C:
			t.Fatalf("acmesim printed %q in 30s, want its URL and API key", got)
		}
	}
	key, ok := strings.CutPrefix(got[1], "api_key ")
	if !strings.HasPrefix(got[0], "http://127.0.0.1:") || !ok {
		t.Fatalf("acmesim printed %q, want its URL and API key", got)
	}
	return got[0], key
}

// readmeConfig saves the README's config as lendgate.json in the module's
// directory, with what a newcomer fills in by hand (the checksum, the
// simulator's address) and its environment variables set, and loads it as
// examples/server does: its relative paths (the plugin binary, the bolt
// file) resolve against that directory, not the test's working directory.
func readmeConfig(t *testing.T, configJSON, dir, sum, simURL, apiKey string) host.Config {
	t.Helper()
	for k, v := range map[string]string{"LENDGATE_API_KEY": "dev-key", "LENDGATE_SECRET": "dev-secret-0123456789abcdef0123456789", "ACME_API_KEY": apiKey} {
		t.Setenv(k, v)
	}
	if !strings.Contains(configJSON, pinPlaceholder) || !strings.Contains(configJSON, readmeSimURL) {
		t.Fatalf("the README's config should have the placeholder %q and the simulator at %s", pinPlaceholder, readmeSimURL)
	}
	configJSON = strings.Replace(configJSON, pinPlaceholder, sum, 1)
	configJSON = strings.Replace(configJSON, readmeSimURL, simURL, 1)
	path := filepath.Join(dir, "lendgate.json")
	if err := os.WriteFile(path, []byte(configJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := host.LoadConfig(path)
	if err != nil {
		t.Fatalf("the README's config: %v", err)
	}
	if pc, ok := cfg.Plugins["acme"]; !ok || pc.Path != filepath.Join(dir, "bin", "lendgate-plugin-acme") {
		t.Fatalf("the README's config should name plugin acme at ./bin/lendgate-plugin-acme beside it, got %+v", cfg.Plugins)
	}
	in, ok := cfg.Providers["acme-main"]
	if !ok || in.Plugin != "acme" || in.Settings["api_key"] != apiKey {
		t.Fatalf("the README's config should have instance acme-main of plugin acme with the API key, got %+v", cfg.Providers)
	}
	return cfg
}

// lend checks the running host: the pinned plugin is up, a checkout lends
// (by Go and as the README's curl does), a fulfillment gives a fresh link,
// and the distributor's refusals arrive as unified codes.
func lend(t *testing.T, h *host.Host, sum, hostKey string) {
	ctx := t.Context()
	if !h.Ready() {
		t.Fatal("the host is not ready: the plugin did not start")
	}
	p, err := h.Provider(ctx, "acme-main")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Plugin.Up || p.Plugin.SHA256 != sum || p.Plugin.Name != "acme" || strings.Join(p.Capabilities, ",") != "checkout,fulfill,return" {
		t.Fatalf("provider acme-main: %+v", p)
	}

	loan, err := h.Checkout(ctx, "acme-main", host.CheckoutRequest{Item: isbnAvailable10, Patron: "patron-42"})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if loan.Item != isbnAvailable || loan.Format != "epub" || len(loan.Links) == 0 || loan.ProviderRef["acme_loan_id"] == "" {
		t.Fatalf("Checkout of an ISBN-10 answered %+v; want the ISBN-13, epub, a link and Acme's loan id", loan)
	}
	f, err := h.Fulfill(ctx, "acme-main", loan.ID, host.FulfillRequest{})
	if err != nil || len(f.Links) == 0 {
		t.Fatalf("Fulfill: %+v, %v", f, err)
	}
	returned, err := h.Return(ctx, "acme-main", loan.ID)
	if err != nil || returned.Status != host.StatusReturned {
		t.Fatalf("Return: %+v, %v", returned, err)
	}
	if b, _ := json.Marshal(returned); !strings.Contains(string(b), `"links":[]`) {
		t.Errorf("a returned loan's JSON still carries links: %s", b)
	}
	if _, err := h.Fulfill(ctx, "acme-main", loan.ID, host.FulfillRequest{}); sdk.CodeOf(err) != sdk.CodeNotAvailable {
		t.Errorf("Fulfill of a returned loan: want not_available, got %v", err)
	}

	for _, tc := range []struct {
		item         string
		code         sdk.Code
		providerCode string
	}{
		{isbnUnknown, sdk.CodeItemNotFound, "NOT_IN_CATALOGUE"},
		{isbnNoCopies, sdk.CodeNotAvailable, "NO_COPIES"},
	} {
		_, err := h.Checkout(ctx, "acme-main", host.CheckoutRequest{Item: tc.item, Patron: "patron-42"})
		var e *sdk.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.ProviderCode != tc.providerCode {
			t.Errorf("Checkout of %s: want %s/%s, got %v", tc.item, tc.code, tc.providerCode, err)
		}
	}

	// The README's curl, against the host's HTTP API.
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		item   string
		status int
		code   string
	}{
		{isbnAvailable, http.StatusCreated, ""},
		{isbnUnknown, http.StatusNotFound, "item_not_found"},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/providers/acme-main/loans",
			strings.NewReader(`{"item":"`+tc.item+`","patron":"patron-42"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+hostKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code  string      `json:"code"`
			Links []host.Link `json:"links"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || body.Code != tc.code || (tc.code == "" && len(body.Links) == 0) {
			t.Errorf("POST loans of %s: %d %+v (%v), want %d %q", tc.item, resp.StatusCode, body, err, tc.status, tc.code)
		}
	}
}
