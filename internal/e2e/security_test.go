package e2e

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// debugEndpoint is one control or debug listener found in a collector configuration.
type debugEndpoint struct {
	kind     string // health_check, zpages, pprof, edge_profile.control, service.telemetry.metrics
	id       string // the component id or config path, for messages
	endpoint string // as written, ${env:...} references included
	// tokenProtected is true when the listener refuses requests without a bearer token.
	tokenProtected bool
}

// loopbackAllowList names the listeners that may bind a non-loopback address, and why. Only
// Kubernetes manifests are on it: the kubelet probes health_check and Prometheus scrapes the
// collector's own metrics through the pod IP, which a loopback listener cannot serve. Debug
// endpoints that can change state or leak memory contents (pprof, zpages, edge_profile control
// without a token) are never allowed off loopback.
//
// Compose files are on it for the same reason inside the compose network (the Prometheus
// container scrapes, the healthcheck probes); TestComposePublishesOnlyOnLoopback checks that
// nothing is published beyond the host's loopback.
var loopbackAllowList = []struct {
	dir, kind, reason string
}{
	{"examples/kubernetes/", "health_check", "liveness and readiness probes connect to the pod IP"},
	{"examples/kubernetes/", "service.telemetry.metrics", "Prometheus scrapes the collector's own metrics on the pod IP"},
	{"examples/compose/", "health_check", "the container healthcheck and other containers reach it on the compose network"},
	{"examples/compose/", "service.telemetry.metrics", "the Prometheus container scrapes it on the compose network"},
}

func allowedOffLoopback(relPath, kind string) (string, bool) {
	for _, a := range loopbackAllowList {
		if strings.HasPrefix(relPath, a.dir) && a.kind == kind {
			return a.reason, true
		}
	}
	return "", false
}

// Defaults of the listeners when a configuration leaves the endpoint out (contrib v0.165.1
// and core v0.165.0 default to localhost; edge_profile to DefaultControlEndpoint).
var debugEndpointDefaults = map[string]string{
	"health_check":         "localhost:13133",
	"zpages":               "localhost:55679",
	"pprof":                "localhost:1777",
	"edge_profile.control": "localhost:13134",
}

// collectorDebugEndpoints lists the control and debug listeners of one collector config.
func collectorDebugEndpoints(cfg map[string]any) []debugEndpoint {
	var out []debugEndpoint
	exts, _ := cfg["extensions"].(map[string]any)
	for id, raw := range exts {
		kind, _, _ := strings.Cut(id, "/")
		sec, _ := raw.(map[string]any)
		switch kind {
		case "health_check", "zpages", "pprof":
			ep, _ := sec["endpoint"].(string)
			if ep == "" {
				ep = debugEndpointDefaults[kind]
			}
			out = append(out, debugEndpoint{kind: kind, id: "extensions::" + id, endpoint: ep})
		case "edge_profile":
			ctl, hasCtl := sec["control"].(map[string]any)
			ep, set := ctl["endpoint"].(string)
			if !hasCtl || !set {
				ep = debugEndpointDefaults["edge_profile.control"]
			}
			if ep == "" {
				continue // explicitly disabled
			}
			token, _ := ctl["bearer_token"].(string)
			_, hasAuth := ctl["auth"].(map[string]any) // an auth extension, as on any confighttp server
			out = append(out, debugEndpoint{kind: "edge_profile.control", id: "extensions::" + id + "::control", endpoint: ep, tokenProtected: token != "" || hasAuth})
		}
	}
	svc, _ := cfg["service"].(map[string]any)
	tel, _ := svc["telemetry"].(map[string]any)
	metrics, _ := tel["metrics"].(map[string]any)
	if addr, ok := metrics["address"].(string); ok {
		out = append(out, debugEndpoint{kind: "service.telemetry.metrics", id: "service::telemetry::metrics::address", endpoint: addr})
	}
	readers, _ := metrics["readers"].([]any)
	for i, r := range readers {
		rm, _ := r.(map[string]any)
		pull, _ := rm["pull"].(map[string]any)
		exp, _ := pull["exporter"].(map[string]any)
		prom, ok := exp["prometheus"].(map[string]any)
		if !ok {
			continue
		}
		host, _ := prom["host"].(string)
		port := fmt.Sprint(prom["port"])
		out = append(out, debugEndpoint{kind: "service.telemetry.metrics",
			id: fmt.Sprintf("service::telemetry::metrics::readers[%d]", i), endpoint: net.JoinHostPort(host, port)})
	}
	return out
}

var envRef = regexp.MustCompile(`\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// endpointHost returns the host an endpoint binds when no environment variable is set: an
// ${env:X:-default} reference resolves to its default; one without a default to "" (unknown,
// which only an allow-listed listener may have).
func endpointHost(ep string) string {
	resolved := envRef.ReplaceAllStringFunc(ep, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		return sub[2]
	})
	if i := strings.Index(resolved, "://"); i >= 0 {
		resolved = resolved[i+3:]
	}
	host, _, err := net.SplitHostPort(resolved)
	if err != nil {
		return resolved
	}
	return host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// exampleCollectorConfigs returns every collector configuration under examples/, by relative
// path: plain config files, and configs embedded in Kubernetes ConfigMaps (several YAML
// documents per file are handled).
func exampleCollectorConfigs(t *testing.T) map[string]map[string]any {
	t.Helper()
	root := RepoRoot()
	found := map[string]map[string]any{}
	err := filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil || m == nil {
				continue // not every YAML file is ours to parse (kustomize patches, ...)
			}
			name := rel
			if i > 0 {
				name = fmt.Sprintf("%s#%d", rel, i)
			}
			if isCollectorConfig(m) {
				found[name] = m
				continue
			}
			if m["kind"] == "ConfigMap" {
				data, _ := m["data"].(map[string]any)
				for key, v := range data {
					s, _ := v.(string)
					var cm map[string]any
					if yaml.Unmarshal([]byte(s), &cm) == nil && isCollectorConfig(cm) {
						found[name+"#data."+key] = cm
					}
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

func isCollectorConfig(m map[string]any) bool {
	_, svc := m["service"]
	_, rec := m["receivers"]
	_, ext := m["extensions"]
	return svc && (rec || ext)
}

// Every control and debug endpoint in every example binds to loopback, except what the
// documented allow-list permits (Kubernetes probes and scrapes), and the edge_profile control
// API off loopback always has a bearer token.
func TestExamplesDebugEndpointsOnLoopback(t *testing.T) {
	configs := exampleCollectorConfigs(t)
	for _, want := range []string{"examples/edge.yaml", "examples/cloud.yaml", "examples/hybrid.yaml"} {
		require.Contains(t, configs, want, "the example configs are found")
	}
	checked := 0
	for name, cfg := range configs {
		for _, ep := range collectorDebugEndpoints(cfg) {
			checked++
			host := endpointHost(ep.endpoint)
			if isLoopback(host) {
				continue
			}
			if ep.kind == "edge_profile.control" && ep.tokenProtected {
				t.Logf("%s: %s %q is off loopback, protected by control.bearer_token", name, ep.id, ep.endpoint)
				continue
			}
			if reason, ok := allowedOffLoopback(name, ep.kind); ok {
				t.Logf("%s: %s %q allowed off loopback: %s", name, ep.id, ep.endpoint, reason)
				continue
			}
			t.Errorf("%s: %s binds %q, reachable from other hosts; bind it to localhost", name, ep.id, ep.endpoint)
		}
	}
	assert.Positive(t, checked, "the examples declare control or debug endpoints to check")
}

// The compose examples publish ports to the host's loopback only, so the allow-listed
// in-network listeners stay off the host's other interfaces.
func TestComposePublishesOnlyOnLoopback(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(RepoRoot(), "examples", "compose", "compose*.y*ml"))
	require.NotEmpty(t, files, "examples/compose ships compose files")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Services map[string]struct {
				Ports []any `json:"ports"`
			} `json:"services"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &doc), f)
		for name, svc := range doc.Services {
			for _, p := range svc.Ports {
				var host string
				switch v := p.(type) {
				case string:
					// [host_ip:]host_port:container_port; only the three-part form names the host IP.
					if parts := strings.Split(v, ":"); len(parts) >= 3 {
						host = strings.Trim(strings.Join(parts[:len(parts)-2], ":"), "[]")
					}
				case map[string]any:
					host, _ = v["host_ip"].(string)
				}
				assert.True(t, isLoopback(host), "%s: service %s publishes %v beyond the host's loopback", filepath.Base(f), name, p)
			}
		}
	}
}

// The check above relies on endpointHost; make sure it would catch what it must.
func TestDebugEndpointCheckCatchesPublicBinds(t *testing.T) {
	cfg := map[string]any{
		"extensions": map[string]any{
			"zpages":       map[string]any{"endpoint": "0.0.0.0:55679"},
			"pprof":        map[string]any{"endpoint": "${env:POD_IP}:1777"},
			"health_check": map[string]any{"endpoint": "${env:HC_HOST:-localhost}:13133"},
			"edge_profile": map[string]any{"control": map[string]any{"endpoint": ":13134"}},
		},
	}
	public := map[string]bool{}
	for _, ep := range collectorDebugEndpoints(cfg) {
		public[ep.kind] = !isLoopback(endpointHost(ep.endpoint))
	}
	assert.Equal(t, map[string]bool{"zpages": true, "pprof": true, "health_check": false, "edge_profile.control": true}, public)
	_, ok := allowedOffLoopback("examples/edge.yaml", "health_check")
	assert.False(t, ok, "the allow-list covers Kubernetes manifests only")
}

// listeningSockets returns the local addresses of the TCP sockets pid listens on, from
// /proc/<pid>/net/tcp{,6} matched against the socket inodes in /proc/<pid>/fd.
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	require.NoError(t, err)
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil {
			if ino, ok := strings.CutPrefix(target, "socket:["); ok {
				inodes[strings.TrimSuffix(ino, "]")] = true
			}
		}
	}
	var out []string
	for _, file := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] { // 0A = LISTEN
				continue
			}
			out = append(out, decodeProcNetAddr(fields[1]))
		}
		f.Close()
	}
	return out
}

// decodeProcNetAddr turns "0100007F:1F90" (little-endian words) into "127.0.0.1:8080".
func decodeProcNetAddr(s string) string {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	raw, _ := hex.DecodeString(hexIP)
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, _ := strconv.ParseUint(hexPort, 16, 16)
	return net.JoinHostPort(net.IP(raw).String(), strconv.FormatUint(port, 10))
}

// The examples as they really run: every socket the collector listens on (including defaults
// the file leaves out, such as the edge_profile control API) is on loopback.
func TestExamplesListenOnlyOnLoopback(t *testing.T) {
	skipShort(t)
	for _, name := range []string{"edge.yaml", "cloud.yaml", "hybrid.yaml"} {
		t.Run(name, func(t *testing.T) {
			ports := NewExamplePorts(t)
			c, err := startCollector(t, Options{
				Configs: []string{filepath.Join(RepoRoot(), "examples", name)},
				Set:     ports.Set(),
			})
			if err != nil {
				if strings.Contains(err.Error(), "address already in use") {
					t.Skipf("a default port of %s is taken by another process: %v", name, err)
				}
				t.Fatal(err)
			}
			socks := listeningSockets(t, c.Pid())
			require.NotEmpty(t, socks)
			for _, s := range socks {
				host, _, _ := net.SplitHostPort(s)
				assert.True(t, isLoopback(host), "%s listens on %s", name, s)
			}
			t.Logf("%s listens on %v", name, socks)
		})
	}
}

// The edge_profile control API bound off loopback refuses unauthenticated reads and writes,
// and validate refuses to bind it off loopback without a token at all.
func TestEdgeProfileControlRequiresToken(t *testing.T) {
	skipShort(t)
	bin := CollectorBinary(t)
	port := FreePort(t)
	const token = "s3cret-token-for-test"
	ext := fmt.Sprintf(`
extensions:
  edge_profile:
    profile: cloud
    storage_directory: %s
    control:
      endpoint: 0.0.0.0:%d
      bearer_token: %s
`, t.TempDir(), port, token)
	pipeline := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %s}
exporters:
  debug:
service:
  extensions: [edge_profile]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
`, FreeEndpoint(t))
	base := WriteConfig(t, pipeline)
	out, err := exec.Command(bin, "validate", "--config", base, "--config", WriteConfig(t, ext)).CombinedOutput()
	require.NoError(t, err, "a control API off loopback with a token validates: %s", out)

	noToken := strings.Replace(ext, "      bearer_token: "+token+"\n", "", 1)
	out, err = exec.Command(bin, "validate", "--config", base, "--config", WriteConfig(t, noToken)).CombinedOutput()
	require.Error(t, err, "a control API off loopback without a token must not validate:\n%s", out)
	assert.Contains(t, string(out), "control.endpoint")

	StartCollector(t, Options{Binary: bin, Configs: []string{base, WriteConfig(t, ext)}})
	// Reach it through a non-loopback address of this host when there is one: the listener is
	// meant for other hosts.
	host := "127.0.0.1"
	if ip := nonLoopbackIPv4(); ip != "" {
		host = ip
	}
	url := fmt.Sprintf("http://%s/profile", net.JoinHostPort(host, strconv.Itoa(port)))
	do := func(method, auth, body string) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct{ name, method, auth string }{
		{"write without token", http.MethodPut, ""},
		{"write with wrong token", http.MethodPut, "Bearer wrong"},
		{"write with basic auth", http.MethodPut, "Basic " + token},
		{"read without token", http.MethodGet, ""},
	} {
		code, body := do(c.method, c.auth, `{"profile": "edge"}`)
		assert.Equal(t, http.StatusUnauthorized, code, "%s: %s", c.name, body)
	}
	code, body := do(http.MethodGet, "Bearer "+token, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "cloud", "the unauthenticated writes changed nothing")
	code, body = do(http.MethodPut, "Bearer "+token, `{"profile": "edge"}`)
	assert.Equal(t, http.StatusUnsupportedMediaType, code, "a write needs Content-Type: application/json: %s", body)
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(`{"profile": "edge"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "an authenticated JSON write is accepted: %s", b)
	assert.Contains(t, string(b), "edge")
}

// The edge_profile control API on its default loopback address refuses what a web page in a
// browser on the machine can send: a cross-origin simple POST, and a DNS-rebinding read under
// a foreign Host name. An auth extension (bearertokenauth) protects it like any confighttp server.
func TestEdgeProfileControlRefusesBrowsers(t *testing.T) {
	skipShort(t)
	bin := CollectorBinary(t)
	port := FreePort(t)
	ext := fmt.Sprintf(`
extensions:
  bearertokenauth/control:
    token: ext-token
  edge_profile:
    profile: cloud
    storage_directory: %s
    control:
      endpoint: 127.0.0.1:%d
      auth:
        authenticator: bearertokenauth/control
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %s}
exporters:
  debug:
service:
  extensions: [bearertokenauth/control, edge_profile]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
`, t.TempDir(), port, FreeEndpoint(t))
	StartCollector(t, Options{Binary: bin, Configs: []string{WriteConfig(t, ext)}})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	send := func(method, path, host string, header map[string]string, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	auth := "Bearer ext-token"
	code, body := send(http.MethodGet, "/profile", "", nil, "")
	assert.Equal(t, http.StatusUnauthorized, code, "the auth extension guards reads: %s", body)
	// Even with the credentials a browser may hold, a cross-origin simple request is refused.
	code, body = send(http.MethodPost, "/profile", "", map[string]string{
		"Authorization": auth, "Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
	}, `{"profile": "edge"}`)
	assert.Equal(t, http.StatusForbidden, code, "cross-origin POST: %s", body)
	code, body = send(http.MethodGet, "/status", fmt.Sprintf("rebind.evil.example:%d", port), map[string]string{"Authorization": auth}, "")
	assert.Equal(t, http.StatusMisdirectedRequest, code, "DNS rebinding read: %s", body)
	code, body = send(http.MethodGet, "/profile", "", map[string]string{"Authorization": auth}, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"active": "cloud"`, "nothing switched")
	code, body = send(http.MethodPut, "/profile", fmt.Sprintf("localhost:%d", port), map[string]string{"Authorization": auth, "Content-Type": "application/json"}, `{"profile": "edge"}`)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"active": "edge"`)
}

func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

// readOnlyHostRoot bind-mounts the real /proc and /sys read-only under a new directory, as a
// DaemonSet mounts the host under /hostfs. It skips when mounting is not possible.
func readOnlyHostRoot(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("bind-mounting a read-only host root needs root")
	}
	// Not t.TempDir: after unmounting only the empty mount points are removed, never a tree
	// that could still be a mount of /sys.
	root, err := os.MkdirTemp("", "otelcol-virt-rohost-")
	require.NoError(t, err)
	var mounted []string
	t.Cleanup(func() {
		for i := len(mounted) - 1; i >= 0; i-- {
			_ = syscall.Unmount(mounted[i], syscall.MNT_DETACH)
		}
		for _, d := range []string{"proc", "sys"} {
			_ = os.Remove(filepath.Join(root, d))
		}
		_ = os.Remove(root)
	})
	for _, d := range []string{"proc", "sys"} {
		dst := filepath.Join(root, d)
		require.NoError(t, os.Mkdir(dst, 0o755))
		if err := syscall.Mount("/"+d, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			t.Skipf("cannot bind-mount /%s: %v", d, err)
		}
		mounted = append(mounted, dst)
		if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Skipf("cannot remount %s read-only: %v", dst, err)
		}
	}
	return root
}

// straceLine is one traced call in `strace -f` output: "<pid> name(args) = ret".
var straceLine = regexp.MustCompile(`^(?:\[pid\s+)?\d+\]?\s+(\w+)\((.*)\)\s+=\s+(-?\d+|\?)`)

var mutatingCalls = map[string]bool{
	"creat": true, "truncate": true, "unlink": true, "unlinkat": true, "rename": true,
	"renameat": true, "renameat2": true, "mkdir": true, "mkdirat": true, "rmdir": true,
	"chmod": true, "fchmodat": true, "fchmodat2": true, "chown": true, "fchownat": true,
	"lchown": true, "link": true, "linkat": true, "symlink": true, "symlinkat": true,
	"mknod": true, "mknodat": true, "setxattr": true, "lsetxattr": true, "utimensat": true,
}

// The wasm_runtime receiver and the virtualization_attributes processor only read the host:
// run under strace on a read-only bind of the real /proc and /sys, with user-defined runtimes
// matching live processes, they open nothing below root_path for writing and change nothing.
func TestReceiverOnlyReadsHost(t *testing.T) {
	skipShort(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (make deps installs it)")
	}
	bin := CollectorBinary(t)
	root := readOnlyHostRoot(t)

	// Live instances for the receiver to find: processes a user-defined runtime matches.
	for range 3 {
		cmd := exec.Command("sleep", "300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	components := fmt.Sprintf(`
receivers:
  wasm_runtime:
    root_path: %s
    collection_interval: 1s
    runtimes:
      - {name: sleepers, kind: wasm, comm: '^sleep$'}
processors:
  virtualization_attributes:
    root_path: %s
`, root, root)
	pipeline := `
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      processors: [virtualization_attributes]
      exporters: [debug]
`
	base := WriteConfig(t, pipeline)
	compCfg := WriteConfig(t, components)
	out, err := exec.Command(bin, "validate", "--config", base, "--config", compCfg).CombinedOutput()
	require.NoError(t, err, "the binary refuses a wasm_runtime and virtualization_attributes config with root_path: %s", out)

	traceLog := filepath.Join(t.TempDir(), "strace.log")
	wrapper := filepath.Join(t.TempDir(), "traced-collector")
	script := fmt.Sprintf("#!/bin/sh\nexec %s -f -qq -o %s -e trace=%%file -e signal=none %s \"$@\"\n", strace, traceLog, bin)
	require.NoError(t, os.WriteFile(wrapper, []byte(script), 0o755))

	c := StartCollector(t, Options{Binary: wrapper, Configs: []string{base, compCfg}, StartTimeout: 90 * time.Second})
	time.Sleep(5 * time.Second) // several collection intervals
	// SIGTERM to strace would detach and leave the collector running: stop the collector
	// itself, strace then exits with it.
	collectorPid := tracedChild(t, c.Pid())
	require.NoError(t, syscall.Kill(collectorPid, syscall.SIGTERM))
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(collectorPid, syscall.SIGKILL)
		t.Fatal("the traced collector did not stop within 30s of SIGTERM")
	}

	f, err := os.Open(traceLog)
	require.NoError(t, err)
	defer f.Close()
	reads, violations := 0, []string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	quotedRoot := `"` + root + "/"
	for sc.Scan() {
		line := sc.Text()
		m := straceLine.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[2], quotedRoot) {
			continue
		}
		call, args := m[1], m[2]
		switch {
		case call == "open" || call == "openat" || call == "openat2":
			if regexp.MustCompile(`O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND`).MatchString(args) {
				violations = append(violations, line)
			} else {
				reads++
			}
		case mutatingCalls[call]:
			violations = append(violations, line)
		}
	}
	require.NoError(t, sc.Err())
	assert.Empty(t, violations, "calls that write below root_path")
	assert.Positive(t, reads, "nothing was read below root_path %s: the receiver and the processor must read the host there", root)
	t.Logf("%d read-only opens below root_path, no writes", reads)
}

// tracedChild returns the pid of the process strace (pid) started, waiting for it to appear.
func tracedChild(t *testing.T, pid int) int {
	t.Helper()
	for range 100 {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
			if err != nil {
				continue
			}
			i := strings.LastIndexByte(string(raw), ')')
			fields := strings.Fields(string(raw[i+1:]))
			if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
				return child
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no child of strace (pid %d)", pid)
	return 0
}
