package sdktest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counting is a simulator that counts the requests it handled and answers
// 201 {"id":"L-1"}.
type counting struct{ acted atomic.Int32 }

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.acted.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"L-1"}`)
}

// TestServerInjectsEveryFault: each fault answers as its doc says, acting
// or not as its name says, on requests that may act; reads pass, and
// restore ends the fault.
func TestServerInjectsEveryFault(t *testing.T) {
	sim := &counting{}
	srv := Simulator(t, sim)
	post := func(t *testing.T, timeout time.Duration) (*http.Response, []byte, error) {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/loans", strings.NewReader(`{"item":"1"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	for _, f := range faultOrder {
		t.Run(f.String(), func(t *testing.T) {
			before := sim.acted.Load()
			restore := srv.Inject(f)
			timeout := 10 * time.Second
			if f.base() == FaultSlow {
				timeout = 200 * time.Millisecond
			}
			resp, body, err := post(t, timeout)
			restore()
			acted := sim.acted.Load() - before
			if want := int32(0); f.AfterActing() {
				if acted != 1 {
					t.Errorf("the simulator handled %d requests, want 1: %s acts first", acted, f)
				}
			} else if acted != want {
				t.Errorf("the simulator handled %d requests, want none before %s", acted, f)
			}
			switch f.base() {
			case FaultServerError:
				if err != nil || resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "Bad Gateway") {
					t.Errorf("got %v %v %q, want a gateway's 502 page", resp, err, body)
				}
			case FaultRateLimited:
				if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "17" {
					t.Errorf("got %v %v, want 429 with Retry-After: 17", resp, err)
				}
			case FaultGarbage:
				if err != nil || resp.StatusCode != http.StatusOK || string(body) == `{"id":"L-1"}` {
					t.Errorf("got %v %v %q, want 200 with garbage", resp, err, body)
				}
			case FaultCut, FaultSlow:
				if err == nil {
					t.Errorf("got %v %q, want no answer", resp.Status, body)
				}
			}
		})
	}

	// Reads pass whatever the fault.
	restore := srv.Inject(FaultCut)
	resp, err := srv.Client().Get(srv.URL + "/loans/L-1")
	restore()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("a GET under FaultCut: %v %v, want the simulator's answer", resp, err)
	}
	resp.Body.Close()
	// Restored: answers pass, and are remembered.
	m := srv.mark()
	if resp, _, err := post(t, 10*time.Second); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("after restore: %v %v", resp, err)
	}
	if as := srv.since(m); len(as) != 1 || as[0].status != http.StatusCreated || as[0].method != http.MethodPost {
		t.Fatalf("answers since the mark: %+v", as)
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"api_key": true, "password": true, "client_secret": true, "access-token": true, "apiKey": true, "APIKEY": true,
		"signing.key": true, "passphrase": true, "credentials": true,
		"key_id": false, "token_url": false, "password_file": false, "username": false, "base_url": false, "organisation_id": false,
		"monkey": false, "": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %t, want %t", name, got, want)
		}
	}
}

func TestSecretWatchFindsEveryForm(t *testing.T) {
	s := newSecretWatch()
	s.add(`setting "password"`, "p@ss w0rd/x")
	s.add(`setting "pin"`, "123") // too short to look for
	s.scan("a link", "https://d.example/file?password=p%40ss+w0rd%2Fx")
	s.scan("a message", "nothing here, 123")
	found, short := s.report()
	if len(found) != 1 || !strings.Contains(found[0], "a link") || strings.Contains(found[0], "p%40ss") {
		t.Errorf("found %q: want the link, quoted without the secret", found)
	}
	if len(short) != 1 {
		t.Errorf("short %q", short)
	}
}

func TestFirstFrameIsThePlugins(t *testing.T) {
	stack := `goroutine 12 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/lendgate/lendgate/sdk.newGRPCServer.recoverPanics.func3.1()
	/src/sdk/wire_server.go:150 +0x6f
panic({0x9c2ee0?, 0xb1e550?})
	/usr/local/go/src/runtime/panic.go:783 +0x132
internal/runtime/maps.(*Map).assign(...)
	/usr/local/go/src/internal/runtime/maps/map.go:100 +0x10
runtime.mapassign_faststr(0x0, 0x0, {0xc0001, 0x5})
	/usr/local/go/src/internal/runtime/maps/runtime_swiss.go:263 +0x3a
main.(*plugin).Fulfill(0xc000012345, {0xb2, 0xc0}, {{0xc0, 0x7}})
	/src/plugin/main.go:229 +0x1f5
github.com/lendgate/lendgate/sdk.(*grpcServer).Fulfill(0xc0)
	/src/sdk/wire_server.go:45 +0x1
`
	if got, want := firstFrame(stack), "main.(*plugin).Fulfill (/src/plugin/main.go:229)"; got != want {
		t.Errorf("firstFrame = %q, want %q", got, want)
	}
}

// TestBuildMatchesTheRaceDetector: Build builds with -race exactly when
// this test binary runs with the race detector.
func TestBuildMatchesTheRaceDetector(t *testing.T) {
	bin := Build(t, panicPluginPkg)
	if got := raceBuilt(bin); got != raceEnabled {
		t.Fatalf("the plugin was built with -race=%t; this test binary runs with the race detector: %t", got, raceEnabled)
	}
}
