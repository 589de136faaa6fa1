package host

import "github.com/lendgate/lendgate/host/config"

// The parts of Config that are plain data are defined in package config;
// these aliases are their names here.

type (
	LogConfig      = config.Log
	StoreConfig    = config.Store
	ClusterConfig  = config.Cluster
	PluginConfig   = config.Plugin
	ProviderConfig = config.Provider
	Defaults       = config.Defaults
	RateConfig     = config.Rate
	BreakerConfig  = config.Breaker
	WebhookConfig  = config.Webhook
	Duration       = config.Duration
)
