package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// promSeries is one series of a Prometheus instant-query result.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

type promClient struct {
	base string
}

func (c promClient) get(path string, params url.Values, out any) error {
	resp, err := http.Get(c.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var envelope struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("%s: %s: %w", path, body, err)
	}
	if envelope.Status != "success" {
		return fmt.Errorf("%s %v: %s", path, params, envelope.Error)
	}
	return json.Unmarshal(envelope.Data, out)
}

// query runs an instant PromQL query through the HTTP API.
func (c promClient) query(q string) ([]promSeries, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := c.get("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, nil // scalar results (e.g. `vector(0)` fallbacks folded) carry no series
	}
	var out []promSeries
	return out, json.Unmarshal(data.Result, &out)
}

func (c promClient) waitFor(t *testing.T, q string, timeout time.Duration) []promSeries {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := c.query(q)
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		if len(res) > 0 || time.Now().After(deadline) {
			return res
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// startPrometheus runs the Debian prometheus binary on a loopback port with the given config and
// returns its API client once it is ready.
func startPrometheus(t *testing.T, config string) promClient {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus not found; `make deps` installs the Debian package prometheus")
		}
		t.Skip("prometheus not found: run `make deps` (Debian package prometheus)")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfgPath, []byte(config))
	listen := e2e.FreeEndpoint(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	var out e2e.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	c := promClient{base: "http://" + listen}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready on %s:\n%s", listen, out.String())
	return c
}

// TestPrometheusScrapesWazeroInstance is the monitoring chain end to end, with real parts only:
// a Wasm module (the Compose demo app) runs under the pinned wazero CLI; otelcol-virt runs the
// Compose sidecar configuration, whose wasm_runtime receiver discovers it; the Debian prometheus
// scrapes the collector's exporter and evaluates the repository's alerting rules. PromQL through
// the HTTP API must return that wazero instance's series under the documented names, the rules
// must evaluate without error, and every dashboard query must run.
func TestPrometheusScrapesWazeroInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: end-to-end test with the collector, wazero and prometheus")
	}
	wazero := e2e.Tool(t, "wazero")
	bin := collectorBinary(t)

	// The Wasm instance.
	module := filepath.Join(t.TempDir(), "app.wasm")
	build := exec.Command("go", "build", "-o", module, "./"+composeDir+"/app")
	build.Dir = repoPath()
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo module: %v\n%s", err, out)
	}
	app := exec.Command(wazero, "run", module, "-interval=200ms", "-work=20ms")
	app.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Process.Kill(); _ = app.Wait() })
	pid := strconv.Itoa(app.Process.Pid)

	// The collector, with the Compose sidecar's configuration on loopback ports.
	exporter, telemetry := e2e.FreeEndpoint(t), e2e.FreeEndpoint(t)
	e2e.StartCollector(t, e2e.Options{
		Binary:  bin,
		Configs: []string{repoPath(composeDir, "otelcol-virt.yaml")},
		Set: []string{
			"extensions::health_check::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::otlp::protocols::grpc::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::wasm_runtime::collection_interval=1s",
			"exporters::prometheus::endpoint=" + exporter,
			"exporters::otlp_http/jaeger::endpoint=http://" + e2e.FreeEndpoint(t),
		},
		TelemetryEndpoint: telemetry,
	})

	// Prometheus, scraping the exporter and the collector's own telemetry every second and loading the repository's rules.
	prom := startPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: otelcol-virt
    static_configs:
      - targets: [%q]
  - job_name: otelcol-virt-self
    static_configs:
      - targets: [%q]
`, repoPath(rulesFile), exporter, telemetry))

	if up := prom.waitFor(t, `up{job="otelcol-virt"} == 1`, 30*time.Second); len(up) == 0 {
		t.Fatal("prometheus never scraped the collector's exporter successfully")
	}
	if self := prom.waitFor(t, `otelcol_wasm_runtime_scrape_instances`, 20*time.Second); len(self) == 0 {
		// The receiver's self-metric is in the collector's telemetry from its first scrape.
		t.Fatal("the wasm_runtime receiver's self-metrics never reached Prometheus (no otelcol_wasm_runtime_scrape_instances)")
	}

	// The wazero instance's series, under the documented Prometheus names.
	sel := fmt.Sprintf(`{process_pid=%q}`, pid)
	usage := prom.waitFor(t, "wasm_runtime_cpu_usage"+sel, 60*time.Second)
	if len(usage) != 1 {
		all, _ := prom.query(`wasm_runtime_cpu_usage`)
		t.Fatalf("PromQL wasm_runtime_cpu_usage%s returned %d series, want the wazero instance (pid %s); all instances: %v", sel, len(usage), pid, all)
	}
	labels := usage[0].Metric
	t.Logf("wazero instance (pid %s) in Prometheus: %v = %v", pid, labels, usage[0].Value[1])
	for k, want := range map[string]string{
		"wasm_runtime_runtime":       "wazero",
		"wasm_runtime_instance_kind": "wasm",
		"process_executable_name":    "wazero",
		"job":                        "otelcol-virt",
	} {
		if labels[k] != want {
			t.Errorf("wazero series label %s=%q, want %q (labels %v)", k, labels[k], want, labels)
		}
	}
	if labels["wasm_runtime_instance_id"] == "" {
		t.Errorf("wazero series has no wasm_runtime_instance_id: %v", labels)
	}
	if labels["wasm_runtime_wasm_module"] != "app.wasm" {
		t.Errorf("wasm_runtime_wasm_module=%q, want app.wasm", labels["wasm_runtime_wasm_module"])
	}
	c := loadContract(t)
	for _, name := range []string{
		"wasm_runtime_cpu_usage",
		"wasm_runtime_memory_rss_bytes",
		"wasm_runtime_file_descriptor_count",
		"wasm_runtime_thread_count",
		"wasm_runtime_limit_configured",
	} {
		if c.metrics[name] == "" {
			t.Errorf("%s is not in the contract", name)
			continue
		}
		if res := prom.waitFor(t, name+sel, 15*time.Second); len(res) == 0 {
			t.Errorf("no %s series for the wazero instance", name)
		}
	}
	// The CPU the module burns (20 ms every 200 ms) is visible as a rate of its CPU time.
	cpuTime := prom.waitFor(t, "wasm_runtime_cpu_time_seconds_total"+sel, 15*time.Second)
	if len(cpuTime) == 0 {
		t.Error("no wasm_runtime_cpu_time_seconds_total series for the wazero instance")
	}

	// The rules load into a real Prometheus and evaluate against real series without error.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := prom.get("/api/v1/rules", nil, &rules); err != nil {
			t.Fatal(err)
		}
		var names []string
		healthy := true
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				names = append(names, r.Name)
				healthy = healthy && r.Health == "ok"
				if r.LastError != "" {
					t.Fatalf("rule %s fails on real data: %s", r.Name, r.LastError)
				}
			}
		}
		if healthy && len(names) == len(alerts(loadRules(t))) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rules not all loaded and evaluated: %v", rules)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Real series, real rule evaluation: for every resource the wazero instance runs without a
	// limit, Prometheus holds a pending WasmInstanceWithoutLimits alert for it (pending, for its
	// `for:` is 15 minutes), and for no other resource.
	unlimited := map[string]bool{}
	for _, s := range prom.waitFor(t, `wasm_runtime_limit_configured`+sel, 15*time.Second) {
		if s.Value[1] == "0" {
			unlimited[s.Metric["wasm_runtime_limit_resource"]] = true
		}
	}
	wantPending := map[string]bool{}
	for r := range unlimited {
		if r == "cpu" || r == "memory" {
			wantPending[r] = true
		}
	}
	pendingQuery := `ALERTS{alertname="WasmInstanceWithoutLimits",alertstate="pending",process_pid="` + pid + `"}`
	gotPending := map[string]bool{}
	deadline = time.Now().Add(15 * time.Second)
	for {
		res, err := prom.query(pendingQuery)
		if err != nil {
			t.Fatal(err)
		}
		gotPending = map[string]bool{}
		for _, s := range res {
			gotPending[s.Metric["wasm_runtime_limit_resource"]] = true
		}
		if fmt.Sprint(gotPending) == fmt.Sprint(wantPending) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if fmt.Sprint(gotPending) != fmt.Sprint(wantPending) {
		t.Errorf("pending WasmInstanceWithoutLimits alerts for %v, want one per unlimited cpu/memory resource %v", gotPending, wantPending)
	}
	t.Logf("unlimited resources of the wazero instance: %v; pending alerts: %v", unlimited, gotPending)

	// Every dashboard query runs; the instance panels show the wazero instance.
	for _, q := range dashboardQueries(t) {
		res, err := prom.query(q)
		if err != nil {
			t.Errorf("dashboard query %s: %v", q, err)
			continue
		}
		if strings.HasPrefix(q, "count by (wasm_runtime_runtime)") {
			var runtimes []string
			for _, s := range res {
				runtimes = append(runtimes, s.Metric["wasm_runtime_runtime"])
			}
			if !slices.Contains(runtimes, "wazero") {
				t.Errorf("dashboard 'Instances by runtime' shows %v, no wazero", runtimes)
			}
		}
	}
}
