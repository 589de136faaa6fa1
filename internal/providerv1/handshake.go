package providerv1

import (
	"errors"

	"github.com/hashicorp/go-plugin"
)

// The values both sides of the wire must agree on, kept in one place: the
// plugin's side (sdk.Serve) and the host's (internal/wire, internal/launch)
// read them from here.
const (
	// ProtocolVersion is the version of the provider protocol this code
	// speaks (plugins.md "The protocol").
	ProtocolVersion = 1
	// PluginName is the name of the one plugin in the set a provider
	// binary serves.
	PluginName = "provider"
	// MaxMessageBytes is the one gRPC message size limit used on both sides
	// (gRPC's default receive limit is 4 MB).
	MaxMessageBytes = 16 << 20

	magicCookieKey   = "LENDGATE_PLUGIN"
	magicCookieValue = "b7a8d1e4-lend-gate-provider"
)

// Handshake is the go-plugin handshake of every lendgate plugin speaking
// version. The magic cookie only keeps a plugin binary from being run by
// hand by mistake; it is not a security measure (the host pins binaries by
// SHA-256).
func Handshake(version int) plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  uint(version),
		MagicCookieKey:   magicCookieKey,
		MagicCookieValue: magicCookieValue,
	}
}

// ErrUntyped is what a plugin's error unwraps to on the host's side when the
// plugin returned an error that was not an *sdk.Error: the SDK sent a generic
// provider_error in its place, with ErrorDetail.untyped set. sdk.Untyped
// looks for it.
var ErrUntyped = errors.New("the plugin returned an error without a unified code")
