package edgeprofileextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

// testControlAddr is the address the handler-level tests pretend to be bound to.
var testControlAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 13134}

// do sends a request straight to a handler, as a command-line client would (Host naming the
// listener, JSON for writes).
func do(t *testing.T, h http.Handler, method, path, body, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "localhost:13134"
	if method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out, _ := io.ReadAll(rec.Body)
	return rec.Code, string(out)
}

func TestControlAPISwitchesAndSubscribersFollow(t *testing.T) {
	e, logs := newTestExtension(t, nil)
	start(t, e)
	var seen []string
	unsub := e.Subscribe(func(p string) { seen = append(seen, p) })
	defer unsub()
	h := e.controlHandler(testControlAddr)

	code, body := do(t, h, http.MethodPut, "/profile", `{"profile":"cloud"}`, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, ProfileCloud, e.Active())
	code, _ = do(t, h, http.MethodPut, "/profile", `{"profile": "hybrid"}`+"\n", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []string{ProfileEdge, ProfileCloud, ProfileHybrid}, seen)

	code, body = do(t, h, http.MethodPut, "/profile", `{"profile":"satellite"}`, "")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, `unknown profile \"satellite\"; use auto or one of cloud, edge, hybrid`)
	code, body = do(t, h, http.MethodPut, "/profile", `{"profile":`, "")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "not valid JSON")
	code, body = do(t, h, http.MethodPut, "/profile", "cloud", "")
	assert.Equal(t, http.StatusBadRequest, code, "a bare name is no JSON object")
	assert.Contains(t, body, "JSON object")
	code, _ = do(t, h, http.MethodDelete, "/profile", "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, code)
	assert.Equal(t, ProfileHybrid, e.Active(), "bad requests change nothing")

	code, body = do(t, h, http.MethodGet, "/status", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"active": "hybrid"`)
	assert.Contains(t, body, `"source": "control"`)
	assert.Len(t, logs.FilterMessage("edge_profile switched profile").All(), 2)
}

func TestControlAPIBearerToken(t *testing.T) {
	e, _ := newTestExtension(t, func(c *Config) { c.Control.BearerToken = "s3cret" })
	start(t, e)
	h := e.controlHandler(testControlAddr)
	for _, tok := range []string{"", "wrong", "s3cret "} {
		code, body := do(t, h, http.MethodPut, "/profile", `{"profile":"cloud"}`, tok)
		assert.Equal(t, http.StatusUnauthorized, code, "token %q", tok)
		assert.Contains(t, body, "bearer token")
		code, _ = do(t, h, http.MethodGet, "/status", "", tok)
		assert.Equal(t, http.StatusUnauthorized, code, "reads need the token too")
	}
	assert.Equal(t, ProfileEdge, e.Active())
	code, _ := do(t, h, http.MethodPut, "/profile", `{"profile":"cloud"}`, "s3cret")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, ProfileCloud, e.Active())
}

// startListening starts the extension with its control API on a free loopback port and
// returns the base URL.
func startListening(t *testing.T, host component.Host, mutate func(*Config)) (*edgeProfile, string) {
	t.Helper()
	e, _ := newTestExtension(t, func(c *Config) {
		c.Control = defaultControlConfig()
		c.Control.NetAddr.Endpoint = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	})
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, e.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, e.Shutdown(context.Background())) })
	require.NotNil(t, e.server, "the control API listens")
	return e, "http://" + e.controlAddr.String()
}

type request struct {
	method, path, host, contentType, body string
	header                                map[string]string
}

func send(t *testing.T, client *http.Client, base string, r request) (int, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	if r.host != "" {
		req.Host = r.host
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// What a web page open in a browser on the machine can send is refused, over a real listener.
func TestControlRefusesBrowsers(t *testing.T) {
	e, base := startListening(t, nil, nil)
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	client := &http.Client{Timeout: 5 * time.Second}
	for _, c := range []struct {
		name string
		req  request
		want int
	}{
		// A form or fetch() with text/plain is a CORS simple request: sent without preflight.
		{"cross-origin simple POST", request{method: http.MethodPost, path: "/profile", contentType: "text/plain", body: `{"profile":"cloud"}`,
			header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}}, http.StatusForbidden},
		{"cross-origin form POST without fetch metadata", request{method: http.MethodPost, path: "/profile", contentType: "application/x-www-form-urlencoded", body: "profile=cloud",
			header: map[string]string{"Origin": "null"}}, http.StatusForbidden},
		{"POST is not a write method", request{method: http.MethodPost, path: "/profile", contentType: "application/json", body: `{"profile":"cloud"}`}, http.StatusMethodNotAllowed},
		{"PUT with text/plain", request{method: http.MethodPut, path: "/profile", contentType: "text/plain", body: `{"profile":"cloud"}`}, http.StatusUnsupportedMediaType},
		{"PUT with a form", request{method: http.MethodPut, path: "/profile", contentType: "application/x-www-form-urlencoded", body: `{"profile":"cloud"}`}, http.StatusUnsupportedMediaType},
		{"PUT with no content type", request{method: http.MethodPut, path: "/profile", body: `{"profile":"cloud"}`}, http.StatusUnsupportedMediaType},
		// DNS rebinding: the page's own name resolves to 127.0.0.1; it may then read /status.
		{"rebinding read", request{method: http.MethodGet, path: "/status", host: "evil.example:" + port}, http.StatusMisdirectedRequest},
		{"rebinding write", request{method: http.MethodPut, path: "/profile", host: "evil.example:" + port, contentType: "application/json", body: `{"profile":"cloud"}`}, http.StatusMisdirectedRequest},
		{"wrong port in Host", request{method: http.MethodGet, path: "/status", host: "127.0.0.1:1"}, http.StatusMisdirectedRequest},
		{"Host without port", request{method: http.MethodGet, path: "/status", host: "localhost"}, http.StatusMisdirectedRequest},
		{"cross-site read", request{method: http.MethodGet, path: "/status", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := send(t, client, base, c.req)
			assert.Equal(t, c.want, code, body)
			assert.Equal(t, ProfileEdge, e.Active(), "nothing switched")
		})
	}
	// What a command-line client, or the API's own page, sends is served.
	for _, host := range []string{"", "localhost:" + port, "[::1]:" + port, "LOCALHOST.:" + port} {
		code, body := send(t, client, base, request{method: http.MethodGet, path: "/status", host: host})
		assert.Equal(t, http.StatusOK, code, "Host %q: %s", host, body)
	}
	code, body := send(t, client, base, request{method: http.MethodPut, path: "/profile", contentType: "application/json; charset=utf-8", body: `{"profile":"cloud"}`,
		header: map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"}})
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, ProfileCloud, e.Active())
}

func TestControlTokenOnLoopback(t *testing.T) {
	e, base := startListening(t, nil, func(c *Config) { c.Control.BearerToken = "loopback-token" })
	client := &http.Client{Timeout: 5 * time.Second}
	write := request{method: http.MethodPut, path: "/profile", contentType: "application/json", body: `{"profile":"cloud"}`}
	code, _ := send(t, client, base, write)
	assert.Equal(t, http.StatusUnauthorized, code, "a local process without the token cannot switch")
	code, _ = send(t, client, base, request{method: http.MethodGet, path: "/status"})
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, ProfileEdge, e.Active())
	write.header = map[string]string{"Authorization": "Bearer loopback-token"}
	code, body := send(t, client, base, write)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, ProfileCloud, e.Active())
}

// hostWithExtensions is a component.Host that serves a fixed set of extensions.
type hostWithExtensions struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h.ext }

// control.auth uses any auth extension; here the distribution's bearertokenauth.
func TestControlAuthExtension(t *testing.T) {
	f := bearertokenauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearertokenauthextension.Config)
	acfg.BearerToken = "ext-token"
	authID := component.MustNewIDWithName("bearertokenauth", "control")
	auth, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, auth.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = auth.Shutdown(context.Background()) })
	host := hostWithExtensions{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{authID: auth}}

	e, base := startListening(t, host, func(c *Config) {
		c.Control.NetAddr.Endpoint = "0.0.0.0:0" // off loopback: allowed with an auth extension
		c.Control.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	})
	require.NoError(t, e.cfg.Validate())
	base = "http://127.0.0.1:" + strconv.Itoa(e.controlAddr.(*net.TCPAddr).Port)
	client := &http.Client{Timeout: 5 * time.Second}
	write := request{method: http.MethodPut, path: "/profile", contentType: "application/json", body: `{"profile":"cloud"}`}
	for _, auth := range []string{"", "Bearer wrong", "Basic ext-token"} {
		write.header = map[string]string{"Authorization": auth}
		code, body := send(t, client, base, write)
		assert.Equal(t, http.StatusUnauthorized, code, "%q: %s", auth, body)
	}
	assert.Equal(t, ProfileEdge, e.Active())
	write.header = map[string]string{"Authorization": "Bearer ext-token"}
	code, body := send(t, client, base, write)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, ProfileCloud, e.Active())

	// An auth extension the host does not have is a start error naming the section.
	e2, _ := newTestExtension(t, func(c *Config) {
		c.Control = defaultControlConfig()
		c.Control.NetAddr.Endpoint = "127.0.0.1:0"
		c.Control.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("missingauth")}})
	})
	err = e2.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "control:")
	assert.Contains(t, err.Error(), "missingauth")
	require.NoError(t, e2.Shutdown(context.Background()))
}

func TestControlPortInUseIsNotFatal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	e, logs := newTestExtension(t, func(c *Config) { c.Control.NetAddr.Endpoint = ln.Addr().String() })
	start(t, e)
	assert.Equal(t, ProfileEdge, e.Active())
	assert.Len(t, logs.FilterMessageSnippet("control API disabled").All(), 1)
}
