package edgeprofileextension

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
)

// OpAMPConfig connects the extension to an OpAMP server, which then sees the active preset
// and can switch it. Off unless Endpoint is set.
type OpAMPConfig struct {
	// Endpoint is the server's OpAMP URL: ws:// or wss:// (WebSocket, the server can push a
	// switch at any time) or http:// or https:// (plain HTTP, polled every PollingInterval).
	Endpoint string `mapstructure:"endpoint"`
	// Headers are sent with every request (an API key, Authorization).
	Headers map[string]configopaque.String `mapstructure:"headers"`
	// TLS is used for wss:// and https:// endpoints.
	TLS configtls.ClientConfig `mapstructure:"tls"`
	// InstanceUID is the agent's OpAMP instance_uid (a UUID). Empty: a UUIDv7 is generated
	// once and kept in the storage directory, so it stays the same across restarts.
	InstanceUID string `mapstructure:"instance_uid"`
	// PollingInterval is how often a plain HTTP client asks the server for news.
	PollingInterval time.Duration `mapstructure:"polling_interval"`

	_ struct{}
}

func (c *OpAMPConfig) validate() error {
	if c.Endpoint == "" {
		if c.InstanceUID != "" || len(c.Headers) > 0 {
			return errors.New("opamp.endpoint: opamp settings are given but no endpoint; set opamp.endpoint (e.g. wss://opamp.example.com/v1/opamp) or remove the opamp section")
		}
		return nil
	}
	var errs []error
	u, err := url.Parse(c.Endpoint)
	switch {
	case err != nil || u.Host == "":
		errs = append(errs, fmt.Errorf("opamp.endpoint: %q is not a URL; use e.g. wss://opamp.example.com/v1/opamp", c.Endpoint))
	case u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("opamp.endpoint: scheme %q is not supported; use ws://, wss:// (WebSocket) or http://, https:// (polling)", u.Scheme))
	}
	if c.InstanceUID != "" {
		if _, err := uuid.Parse(c.InstanceUID); err != nil {
			errs = append(errs, fmt.Errorf("opamp.instance_uid: %q is not a UUID; remove it to have one generated and kept, or use e.g. %s", c.InstanceUID, "0190f6a4-8c5e-7b4a-9d2e-3c1f0a6b7d8e"))
		}
	}
	for k := range c.Headers {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, ": \t\r\n") {
			errs = append(errs, fmt.Errorf("opamp.headers: %q is not a header name", k))
		}
	}
	if c.PollingInterval < 0 {
		errs = append(errs, fmt.Errorf("opamp.polling_interval: must not be negative, got %s", c.PollingInterval))
	}
	return errors.Join(errs...)
}
