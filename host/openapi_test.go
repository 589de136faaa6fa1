package host_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
)

// GET /v1/openapi.json serves the embedded document without a key, through
// Handler and through Middleware alike.
func TestOpenAPIDocumentIsServedWithoutKey(t *testing.T) {
	e := start(t, fakeConfig(t))
	r := e.do("GET", "/v1/openapi.json", nil, "Authorization", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(r.body, host.OpenAPI()) {
		t.Errorf("served %d bytes, host.OpenAPI() has %d", len(r.body), len(host.OpenAPI()))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	r.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}

	ils := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "the ILS", http.StatusTeapot) })
	rec := httptest.NewRecorder()
	e.h.Middleware(ils).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("through Middleware: %d %.80s", rec.Code, rec.Body.String())
	}
}

// Every JSON member of the API's Go types is described in the document's
// schema of the same name, so that a member added in Go without the
// document fails here (answers may carry members the document does not
// list, so the e2e validation alone would not notice). Request schemas
// refuse unknown members, so there a property the Go type lacks would refuse
// what the host takes, and the other way round: both directions are checked,
// except for properties the document marks deprecated.
func TestOpenAPISchemasDescribeTheGoTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(host.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	// resolve follows a local $ref.
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
		}
		return s
	}
	// notInAnswers are Go members the API does not show (none today).
	notInAnswers := map[string]bool{}
	var walk func(name string, typ reflect.Type, s map[string]any, request bool)
	walk = func(name string, typ reflect.Type, s map[string]any, request bool) {
		s = resolve(s)
		props, _ := s["properties"].(map[string]any)
		seen := map[string]bool{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || tag == "-" || tag == "" {
				continue
			}
			seen[tag] = true
			if notInAnswers[typ.Name()+"."+tag] {
				continue
			}
			p, ok := props[tag].(map[string]any)
			if !ok {
				t.Errorf("%s: member %q of %s is not in the document", name, tag, typ)
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				p = resolve(p)
				switch ft.Kind() {
				case reflect.Slice:
					p, _ = p["items"].(map[string]any)
				case reflect.Map:
					p, _ = p["additionalProperties"].(map[string]any)
				}
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) && p != nil {
				walk(name+"."+tag, ft, p, request)
			}
		}
		if !request {
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: a request schema without additionalProperties: false", name)
		}
		for k, v := range props {
			if dep, _ := v.(map[string]any)["deprecated"].(bool); !seen[k] && !dep {
				t.Errorf("%s: property %q is not a member of %s", name, k, typ)
			}
		}
	}
	for _, c := range []struct {
		schema  string
		v       any
		request bool
	}{
		{"Loan", host.Loan{}, false},
		{"Fulfillment", host.Fulfillment{}, false},
		{"Provider", host.Provider{}, false},
		{"EventPage", host.EventPage{}, false},
		{"Problem", host.Problem{}, false},
		{"ReloadResult", host.ReloadResult{}, false},
		{"CheckoutRequest", host.CheckoutRequest{}, true},
		{"FulfillRequest", host.FulfillRequest{}, true},
		{"RenewRequest", host.RenewRequest{}, true},
		{"DownloadRequest", host.DownloadRequest{}, true},
		{"AccessCheckRequest", host.AccessCheckRequest{}, true},
		{"ReloadRequest", host.ReloadRequest{}, true},
	} {
		s, ok := schemas[c.schema]
		if !ok {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		walk(c.schema, reflect.TypeOf(c.v), s, c.request)
	}
}

// The document says what the host sends: members the host never sends as
// null are not typed nullable (a client generator would make them
// optional pointers), and every operation that calls a distributor lists
// its 502 and 504 answers.
func TestOpenAPITypesWhatIsSent(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(host.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ schema, member, typ string }{
		{"Loan", "links", "array"}, {"Fulfillment", "links", "array"}, {"Event", "data", "object"}, {"EventPage", "events", "array"},
	} {
		if got := doc.Components.Schemas[m.schema].Properties[m.member]["type"]; got != m.typ {
			t.Errorf("%s.%s is typed %v, want %q (never null)", m.schema, m.member, got, m.typ)
		}
	}
	for _, op := range []struct{ path, method string }{
		{"/v1/providers/{provider}/loans", "post"}, {"/v1/providers/{provider}/loans/{loan}/renewal", "post"},
		{"/v1/providers/{provider}/loans/{loan}", "delete"}, {"/v1/providers/{provider}/loans/{loan}/fulfillment", "post"},
		{"/v1/providers/{provider}/loans/{loan}/content", "get"}, {"/v1/providers/{provider}/downloads", "post"},
		{"/v1/providers/{provider}/access-checks", "post"},
	} {
		var o struct{ Responses map[string]any }
		if err := json.Unmarshal(doc.Paths[op.path][op.method], &o); err != nil {
			t.Fatalf("%s %s: %v", op.method, op.path, err)
		}
		for _, status := range []string{"502", "504"} {
			if _, ok := o.Responses[status]; !ok {
				t.Errorf("%s %s does not list %s", strings.ToUpper(op.method), op.path, status)
			}
		}
	}

	// And the host sends them so: an empty log pages as [], an event
	// journaled without data carries {}.
	e := start(t, fakeConfig(t))
	if r := e.do("GET", "/v1/events", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), `"events":[]`) {
		t.Errorf("an empty log: %d %s, want \"events\":[]", r.status, r.body)
	}
	checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	if r := e.do("GET", "/v1/events", nil); !strings.Contains(string(r.body), `"data":{}`) || strings.Contains(string(r.body), "null") {
		t.Errorf("events: %s, want \"data\":{} and no null", r.body)
	}
}
