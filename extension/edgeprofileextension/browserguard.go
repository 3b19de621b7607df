package edgeprofileextension

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// hostPolicy says which Host header values the control API answers to. A DNS-rebinding page
// reaches a loopback listener under its own name (Host: evil.example:13134), so only names
// that mean this machine are accepted: IP literals matching the bound address, localhost,
// this host's name, the configured endpoint's host and control.allowed_hosts.
type hostPolicy struct {
	port  string
	tls   bool
	ip    net.IP // bound IP; unspecified when listening on all addresses
	names map[string]bool
}

func newHostPolicy(cfg *ControlConfig, addr net.Addr) hostPolicy {
	p := hostPolicy{tls: cfg.TLS.HasValue(), names: map[string]bool{}}
	if ta, ok := addr.(*net.TCPAddr); ok {
		p.ip, p.port = ta.IP, strconv.Itoa(ta.Port)
	} else if h, port, err := net.SplitHostPort(addr.String()); err == nil {
		p.ip, p.port = net.ParseIP(h), port
	}
	loopback := p.ip != nil && p.ip.IsLoopback()
	if loopback || p.ip == nil || p.ip.IsUnspecified() {
		p.names["localhost"] = true
	}
	if !loopback {
		if hn, err := os.Hostname(); err == nil && hn != "" {
			p.names[normaliseHost(hn)] = true
		}
	}
	if h, _, err := net.SplitHostPort(cfg.NetAddr.Endpoint); err == nil && h != "" && net.ParseIP(h) == nil {
		p.names[normaliseHost(h)] = true
	}
	for _, h := range cfg.AllowedHosts {
		p.names[normaliseHost(h)] = true
	}
	return p
}

func normaliseHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// allows reports whether a Host header value (host[:port]) names this listener.
func (p hostPolicy) allows(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil { // no port: the scheme's default
		host, port = hostport, "80"
		if p.tls {
			port = "443"
		}
	}
	if host == "" || port != p.port {
		return false
	}
	host = normaliseHost(host)
	if ip := net.ParseIP(host); ip != nil {
		switch {
		case p.ip == nil || p.ip.IsUnspecified():
			return true
		case p.ip.IsLoopback():
			return ip.IsLoopback()
		default:
			return ip.Equal(p.ip)
		}
	}
	return p.names[host]
}

// browserGuard refuses what a web page in a browser on this machine can send: a Host that is
// not this listener (DNS rebinding) and any cross-origin request (Origin or Sec-Fetch-Site
// naming another site). Command-line clients send neither header and are unaffected.
func browserGuard(p hostPolicy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allows(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "Host "+strconv.Quote(r.Host)+" does not name this control API; use its address (e.g. localhost:"+p.port+") or list the name in control.allowed_hosts")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, "cross-origin requests are refused (Sec-Fetch-Site: "+site+")")
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || u.Host != r.Host {
				writeError(w, http.StatusForbidden, "cross-origin requests are refused (Origin: "+origin+")")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
