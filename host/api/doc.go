// Package api holds the request and response types of lendgate's lending
// API: the bodies the HTTP surface reads and writes and the values the Go
// methods of host.Host take and return. Package host names each of them
// with an alias (host.Loan is api.Loan), so an embedder needs only host.
//
// The types carry their JSON form and nothing else: no store, plugin or
// HTTP machinery, so every layer of the host can import this package
// without importing another layer.
package api
