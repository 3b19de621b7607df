package edgeprofileextension

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/confignet"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
)

// ControlConfig configures the control and status API. It is a stock confighttp server
// (endpoint, tls, auth with any auth extension, timeouts, ...) plus the checks a local
// management API needs against browsers: see control.go.
type ControlConfig struct {
	confighttp.ServerConfig `mapstructure:",squash"`
	// BearerToken, when set, is required as "Authorization: Bearer <token>" on every request.
	// It is the simple choice on loopback; `auth:` with an auth extension is the other one.
	BearerToken configopaque.String `mapstructure:"bearer_token"`
	// AllowedHosts are extra Host header values (names, without port) the API answers to,
	// besides IP literals, localhost, this host's name and the configured endpoint's host.
	AllowedHosts []string `mapstructure:"allowed_hosts"`

	_ struct{}
}

// Defaults of the control API: short timeouts (the requests are tiny) and a small body limit.
const (
	controlReadHeaderTimeout = 5 * time.Second
	controlReadTimeout       = 10 * time.Second
	controlWriteTimeout      = 10 * time.Second
	controlIdleTimeout       = 30 * time.Second
	controlMaxBody           = 4096
)

func defaultControlConfig() ControlConfig {
	sc := confighttp.NewDefaultServerConfig()
	sc.NetAddr.Endpoint = DefaultControlEndpoint
	sc.ReadHeaderTimeout = controlReadHeaderTimeout
	sc.ReadTimeout = controlReadTimeout
	sc.WriteTimeout = controlWriteTimeout
	ka := confighttp.NewDefaultKeepaliveServerConfig()
	ka.IdleTimeout = controlIdleTimeout
	sc.Keepalive = configoptional.Some(ka)
	sc.MaxRequestBodySize = controlMaxBody
	return ControlConfig{ServerConfig: sc}
}

func (c *ControlConfig) validate() error {
	ep := c.NetAddr.Endpoint
	if ep == "" {
		return nil
	}
	var errs []error
	switch c.NetAddr.Transport {
	case confignet.TransportTypeTCP, confignet.TransportTypeTCP4, confignet.TransportTypeTCP6:
	default:
		errs = append(errs, fmt.Errorf("control.transport: %q is not supported; the control API listens on tcp (leave control.transport unset)", c.NetAddr.Transport))
	}
	host, port, err := net.SplitHostPort(ep)
	switch {
	case err != nil || port == "":
		errs = append(errs, fmt.Errorf("control.endpoint: %q is not host:port; use e.g. %s", ep, DefaultControlEndpoint))
	case !isLoopbackHost(host) && c.BearerToken == "" && !c.Auth.HasValue():
		errs = append(errs, fmt.Errorf("control.endpoint: %q is reachable from other hosts; set control.bearer_token or control.auth (an auth extension such as bearertokenauth), or bind to localhost", ep))
	}
	if c.BearerToken != "" && c.Auth.HasValue() {
		errs = append(errs, errors.New("control.bearer_token: set either control.bearer_token or control.auth, not both; with an auth extension, move the token into it"))
	}
	if c.CORS.HasValue() {
		errs = append(errs, errors.New("control.cors: the control API never answers cross-origin requests (a web page must not switch presets); remove control.cors"))
	}
	for _, h := range c.AllowedHosts {
		if h == "" || strings.ContainsAny(h, ":/ ") {
			errs = append(errs, fmt.Errorf("control.allowed_hosts: %q is not a host name; list names without port or scheme, e.g. collector.example.internal", h))
		}
	}
	return errors.Join(errs...)
}
