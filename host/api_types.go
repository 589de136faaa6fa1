package host

import "github.com/lendgate/lendgate/host/api"

// The API's request and response types are defined in package api; these
// aliases are their names in the facade.

type (
	Link               = api.Link
	Loan               = api.Loan
	LoanError          = api.LoanError
	CheckoutRequest    = api.CheckoutRequest
	FulfillRequest     = api.FulfillRequest
	Fulfillment        = api.Fulfillment
	RenewRequest       = api.RenewRequest
	DownloadRequest    = api.DownloadRequest
	AccessCheckRequest = api.AccessCheckRequest
	AccessCheck        = api.AccessCheck
	Event              = api.Event
	EventPage          = api.EventPage
	Provider           = api.Provider
	PluginStatus       = api.PluginStatus
	BreakerStatus      = api.BreakerStatus
	RateStatus         = api.RateStatus
	ReloadRequest      = api.ReloadRequest
	ReloadResult       = api.ReloadResult
	PluginVersion      = api.PluginVersion
	WebhookStatus      = api.WebhookStatus
	Problem            = api.Problem
)

// Loan statuses.
const (
	StatusActive   = api.StatusActive
	StatusReturned = api.StatusReturned
	StatusExpired  = api.StatusExpired
	StatusRevoked  = api.StatusRevoked
	StatusPending  = api.StatusPending
	StatusUnknown  = api.StatusUnknown
)
