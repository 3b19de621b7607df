package edgeprofileextension

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
)

func TestControlOverTLS(t *testing.T) {
	pki := e2e.NewTestPKI(t)
	pool := pki.CAs
	e, base := startListening(t, nil, func(c *Config) {
		c.Control.TLS = configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: pki.ServerCertFile, KeyFile: pki.ServerKeyFile}})
	})
	base = "https://" + strings.TrimPrefix(base, "http://")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	code, body := send(t, client, base, request{method: http.MethodPut, path: "/profile", contentType: "application/json", body: `{"profile":"hybrid"}`})
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, ProfileHybrid, e.Active())
	code, _ = send(t, &http.Client{Timeout: 5 * time.Second}, strings.Replace(base, "https://", "http://", 1), request{method: http.MethodGet, path: "/status"})
	assert.Equal(t, http.StatusBadRequest, code, "plaintext is not served on the TLS port")
}

func TestControlTimeouts(t *testing.T) {
	e, _ := startListening(t, nil, nil)
	assert.Equal(t, controlReadHeaderTimeout, e.server.ReadHeaderTimeout)
	assert.Equal(t, controlReadTimeout, e.server.ReadTimeout)
	assert.Equal(t, controlWriteTimeout, e.server.WriteTimeout)
	assert.Equal(t, controlIdleTimeout, e.server.IdleTimeout)

	e2, _ := startListening(t, nil, func(c *Config) {
		c.Control.ReadTimeout = 3 * time.Second
		c.Control.WriteTimeout = 4 * time.Second
		ka := confighttp.NewDefaultKeepaliveServerConfig()
		ka.IdleTimeout = 7 * time.Second
		c.Control.Keepalive = configoptional.Some(ka)
	})
	assert.Equal(t, 3*time.Second, e2.server.ReadTimeout)
	assert.Equal(t, 4*time.Second, e2.server.WriteTimeout)
	assert.Equal(t, 7*time.Second, e2.server.IdleTimeout)
}

func TestHostPolicy(t *testing.T) {
	hostname, _ := os.Hostname()
	for _, c := range []struct {
		name    string
		bound   string
		cfg     ControlConfig
		allowed []string
		refused []string
	}{
		{"loopback", "127.0.0.1:13134", ControlConfig{},
			[]string{"127.0.0.1:13134", "localhost:13134", "[::1]:13134", "127.0.0.2:13134"},
			[]string{"evil.example:13134", "localhost:80", "localhost", "10.0.0.1:13134", "", ":13134"}},
		{"all addresses", "0.0.0.0:13134", ControlConfig{},
			[]string{"10.0.0.5:13134", "[fe80::1]:13134", "localhost:13134", strings.ToLower(hostname) + ":13134"},
			[]string{"evil.example:13134", "10.0.0.5:13135"}},
		{"one address", "10.1.2.3:8443", ControlConfig{AllowedHosts: []string{"Collector.Example.Internal"}},
			[]string{"10.1.2.3:8443", "collector.example.internal:8443"},
			[]string{"10.1.2.4:8443", "localhost:8443", "127.0.0.1:8443", "evil.example:8443"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", c.bound)
			require.NoError(t, err)
			c.cfg.NetAddr.Endpoint = c.bound
			p := newHostPolicy(&c.cfg, addr)
			for _, h := range c.allowed {
				assert.True(t, p.allows(h), "%q should be served", h)
			}
			for _, h := range c.refused {
				assert.False(t, p.allows(h), "%q should be refused", h)
			}
		})
	}
	tlsCfg := ControlConfig{}
	tlsCfg.TLS = configoptional.Some(configtls.NewDefaultServerConfig())
	p := newHostPolicy(&tlsCfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443})
	assert.True(t, p.allows("localhost"), "no port in Host means 443 over TLS")
}

func TestControlConfigErrors(t *testing.T) {
	base := func() *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.Profile = ProfileEdge
		return cfg
	}
	authOn := configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("bearertokenauth")}})
	for _, c := range []struct {
		name    string
		mutate  func(*ControlConfig)
		wantErr string
	}{
		{"open without token", func(c *ControlConfig) { c.NetAddr.Endpoint = "0.0.0.0:0" }, `control.endpoint: "0.0.0.0:0" is reachable from other hosts; set control.bearer_token or control.auth`},
		{"open with auth extension", func(c *ControlConfig) { c.NetAddr.Endpoint = "0.0.0.0:0"; c.Auth = authOn }, ""},
		{"open with token", func(c *ControlConfig) { c.NetAddr.Endpoint = "0.0.0.0:0"; c.BearerToken = "x" }, ""},
		{"ipv6 loopback", func(c *ControlConfig) { c.NetAddr.Endpoint = "[::1]:0" }, ""},
		{"token and auth", func(c *ControlConfig) { c.BearerToken = "x"; c.Auth = authOn }, "control.bearer_token: set either control.bearer_token or control.auth, not both"},
		{"cors", func(c *ControlConfig) { c.CORS = configoptional.Some(confighttp.NewDefaultCORSConfig()) }, "control.cors: the control API never answers cross-origin requests"},
		{"unix socket", func(c *ControlConfig) { c.NetAddr.Transport = "unix" }, `control.transport: "unix" is not supported`},
		{"not host:port", func(c *ControlConfig) { c.NetAddr.Endpoint = "nonsense" }, `control.endpoint: "nonsense" is not host:port; use e.g. localhost:13134`},
		{"allowed host with port", func(c *ControlConfig) { c.AllowedHosts = []string{"a.example:80"} }, `control.allowed_hosts: "a.example:80" is not a host name`},
		{"off", func(c *ControlConfig) { c.NetAddr.Endpoint = ""; c.NetAddr.Transport = "unix" }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.mutate(&cfg.Control)
			err := cfg.Validate()
			if c.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, c.wantErr)
		})
	}
}
