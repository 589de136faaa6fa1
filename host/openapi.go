package host

import "github.com/lendgate/lendgate/host/api"

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API, the one served
// at GET /v1/openapi.json (api.OpenAPI).
func OpenAPI() []byte { return api.OpenAPI() }
