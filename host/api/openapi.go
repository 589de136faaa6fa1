package api

import (
	_ "embed"
)

// openAPIDoc is the OpenAPI 3.1 description of the HTTP API: these types
// as JSON, with their paths and errors.
// It is checked in as JSON so that it reads and diffs as the document it
// is; the tests validate it and every e2e exchange against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API, the one served
// at GET /v1/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }
