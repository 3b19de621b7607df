package edgeprofileextension

import (
	"net"
	"strings"
)

// Backend endpoints per protocol: standard ports, the per-protocol port rule, URL forms.

// BackendEndpoint returns the endpoint for a protocol as its exporter expects it: a URL for
// otlp_http, the configured form (host:port or URL) for otlp_grpc. Empty when none is set.
func (cfg *Config) BackendEndpoint(protocol string) string {
	switch protocol {
	case ProtocolHTTP:
		if cfg.Endpoints.OTLPHTTP != "" {
			return withScheme(cfg.Endpoints.OTLPHTTP)
		}
		if cfg.Endpoint != "" {
			return withScheme(withPortFor(cfg.Endpoint, PortHTTP, PortGRPC))
		}
	case ProtocolGRPC:
		if cfg.Endpoints.OTLPGRPC != "" {
			return cfg.Endpoints.OTLPGRPC
		}
		if cfg.Endpoint != "" {
			return withPortFor(cfg.Endpoint, PortGRPC, PortHTTP)
		}
	}
	return ""
}

// The standard OTLP ports.
const (
	PortGRPC = "4317"
	PortHTTP = "4318"
)

// withPortFor gives the shared endpoint the port of one protocol: the standard port when it
// has none, and the standard port too when it names the other protocol's standard port, as a
// backend listening on 4317 speaks gRPC there and OTLP/HTTP on 4318. Any other port is used as
// is by both protocols (a gateway serving both on 443). endpoints.<protocol> is the way to
// send a protocol to the other's port on purpose.
func withPortFor(ep, port, otherPort string) string {
	ep = withDefaultPort(ep, port)
	scheme, rest := "", ep
	if i := strings.Index(ep, "://"); i >= 0 {
		scheme, rest = ep[:i+3], ep[i+3:]
	}
	hostport, path, hasPath := strings.Cut(rest, "/")
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || p != otherPort {
		return ep
	}
	out := scheme + net.JoinHostPort(host, port)
	if hasPath {
		out += "/" + path
	}
	return out
}

// withScheme makes a bare host:port an https URL, as otlp_http requires a URL.
func withScheme(ep string) string {
	if strings.Contains(ep, "://") {
		return ep
	}
	return "https://" + ep
}

// withDefaultPort adds port when the endpoint (URL or host[:port]) has none.
func withDefaultPort(ep, port string) string {
	scheme, rest := "", ep
	if i := strings.Index(ep, "://"); i >= 0 {
		scheme, rest = ep[:i+3], ep[i+3:]
	}
	host, path, _ := strings.Cut(rest, "/")
	if _, _, err := net.SplitHostPort(host); err == nil {
		return ep
	}
	out := scheme + net.JoinHostPort(strings.Trim(host, "[]"), port)
	if path != "" {
		out += "/" + path
	}
	return out
}

// DialAddress returns host:port of an endpoint for reachability probes.
func DialAddress(ep, defaultPort string) string {
	ep = withDefaultPort(ep, defaultPort)
	if i := strings.Index(ep, "://"); i >= 0 {
		ep = ep[i+3:]
	}
	host, _, _ := strings.Cut(ep, "/")
	return host
}
