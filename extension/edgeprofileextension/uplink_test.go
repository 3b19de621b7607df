package edgeprofileextension

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connectProxy is an HTTP proxy that answers CONNECT with status and records the targets.
type connectProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
	auth []string
}

func startConnectProxy(t *testing.T, status int) *connectProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	p := &connectProxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err == nil {
				p.mu.Lock()
				p.seen = append(p.seen, req.Method+" "+req.Host)
				p.auth = append(p.auth, req.Header.Get("Proxy-Authorization"))
				p.mu.Unlock()
				_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\n\r\n", status, http.StatusText(status))
			}
			c.Close()
		}
	}()
	return p
}

func (p *connectProxy) requests() ([]string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...), append([]string(nil), p.auth...)
}

func TestUplinkProbeGoesThroughTheProxy(t *testing.T) {
	proxy := startConnectProxy(t, http.StatusOK)
	// The backend's name does not resolve: only the proxy can reach it.
	t.Setenv("HTTPS_PROXY", "http://user:pw@"+proxy.addr)
	t.Setenv("NO_PROXY", "")
	via, err := newUplinkProbe("backend.invalid:4317", "https").run()
	require.NoError(t, err)
	assert.Equal(t, "http://user:xxxxx@"+proxy.addr, via, "named, without the password")
	seen, auth := proxy.requests()
	assert.Equal(t, []string{"CONNECT backend.invalid:4317"}, seen)
	assert.Equal(t, []string{"Basic dXNlcjpwdw=="}, auth)
}

func TestUplinkProbeProxyRefuses(t *testing.T) {
	proxy := startConnectProxy(t, http.StatusForbidden)
	t.Setenv("HTTPS_PROXY", "http://"+proxy.addr)
	t.Setenv("NO_PROXY", "")
	_, err := newUplinkProbe("backend.invalid:4317", "https").run()
	require.ErrorContains(t, err, "refused the tunnel to backend.invalid:4317")
}

func TestUplinkProbeNoProxy(t *testing.T) {
	proxy := startConnectProxy(t, http.StatusOK)
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer backend.Close()
	t.Setenv("HTTPS_PROXY", "http://"+proxy.addr)
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("NO_PROXY", "backend.invalid")
	_, err = newUplinkProbe("backend.invalid:4317", "https").run()
	require.Error(t, err, "NO_PROXY: dialled directly, and the name does not resolve")
	via, err := newUplinkProbe(backend.Addr().String(), "https").run()
	require.NoError(t, err, "loopback is never proxied")
	assert.Empty(t, via)
	// HTTPS_PROXY does not apply to a plaintext http:// OTLP/HTTP backend.
	t.Setenv("NO_PROXY", "")
	_, err = newUplinkProbe("backend.invalid:4318", "http").run()
	require.Error(t, err)
	seen, _ := proxy.requests()
	assert.Empty(t, seen)
}
