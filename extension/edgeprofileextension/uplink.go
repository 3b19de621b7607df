package edgeprofileextension

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// uplinkProbe is how auto mode checks the backend: through the proxy the exporters would use.
// Both exporters honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY: otlp_http through net/http's
// ProxyFromEnvironment for its URL, otlp_grpc through grpc-go, which asks the same rules for
// an https:// URL of the target whatever the transport (grpc v1.85.0,
// internal/resolver/delegatingresolver/delegatingresolver.go). A bare dial to the backend from a
// network that only lets the proxy out would report the uplink down while the exporters work.
type uplinkProbe struct {
	// target is host:port of the backend; scheme is the URL scheme the proxy rules are asked for.
	target, scheme string
	// proxyFunc is httpproxy's ProxyFunc; read from the environment for each probe so that a
	// changed environment (tests) is seen, like net/http's rules but without its cache.
	proxyFunc func(*url.URL) (*url.URL, error)
	timeout   time.Duration
}

func newUplinkProbe(target, scheme string) uplinkProbe {
	return uplinkProbe{target: target, scheme: scheme, proxyFunc: httpproxy.FromEnvironment().ProxyFunc(), timeout: 3 * time.Second}
}

// run connects to the backend, directly or with an HTTP CONNECT through the proxy that applies
// to it. via names the proxy (empty when direct), for the reasons of auto mode.
func (p uplinkProbe) run() (via string, err error) {
	proxy, err := p.proxyFunc(&url.URL{Scheme: p.scheme, Host: p.target})
	if err != nil {
		return "", fmt.Errorf("proxy settings: %w", err)
	}
	if proxy == nil {
		conn, err := net.DialTimeout("tcp", p.target, p.timeout)
		if err == nil {
			_ = conn.Close()
		}
		return "", err
	}
	via = proxy.Redacted()
	if proxy.Scheme != "http" && proxy.Scheme != "" {
		// An https:// or socks5:// proxy: reaching it is what can be checked without its handshake.
		conn, err := net.DialTimeout("tcp", DialAddress(proxy.Host, defaultProxyPort(proxy.Scheme)), p.timeout)
		if err == nil {
			_ = conn.Close()
		}
		return via, err
	}
	return via, p.connect(proxy)
}

// connect asks an HTTP proxy to open a tunnel to the target, as the exporters' clients do.
func (p uplinkProbe) connect(proxy *url.URL) error {
	conn, err := net.DialTimeout("tcp", DialAddress(proxy.Host, "80"), p.timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(p.timeout))
	req := "CONNECT " + p.target + " HTTP/1.1\r\nHost: " + p.target + "\r\n"
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("proxy %s: %w", proxy.Redacted(), err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("proxy %s refused the tunnel to %s: %s", proxy.Redacted(), p.target, resp.Status)
	}
	return nil
}

func defaultProxyPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "socks5", "socks5h":
		return "1080"
	}
	return "80"
}

// uplinkScheme is the URL scheme the proxy rules are asked for, for the probe target that
// uplinkTarget picks: https for gRPC (grpc-go's rule), the endpoint's own for OTLP/HTTP.
func (cfg *Config) uplinkScheme() string {
	if cfg.BackendEndpoint(ProtocolGRPC) != "" {
		return "https"
	}
	if u, err := url.Parse(cfg.BackendEndpoint(ProtocolHTTP)); err == nil && u.Scheme == "http" {
		return "http"
	}
	return "https"
}
