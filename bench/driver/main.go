// Command driver runs the side-by-side benchmark of otelcol-virt against a stock collector
// built from the same release (bench/stock/manifest.yaml), under the same load from
// telemetrygen, and writes docs/benchmarks.md and bench/results/benchmarks.svg.
//
// Each preset (edge, cloud) is run as shipped in examples/ by otelcol-virt (edge_profile,
// virtualization_attributes, wasm_runtime scraping user-defined instances) and, for the stock
// collector, as the same stock pipeline the preset expands to, without our components. Runs
// alternate between the two collectors; the table reports medians.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"sigs.k8s.io/yaml"
)

var (
	flagStock      = flag.String("stock", "bench/_build/otelcol-stock/otelcol-stock", "stock collector binary")
	flagVirt       = flag.String("virt", "bin/otelcol-virt", "otelcol-virt binary")
	flagEdge       = flag.String("edge", "bin/otelcol-virt-edge", "otelcol-virt-edge binary")
	flagRuns       = flag.Int("runs", 3, "runs per collector, preset and load")
	flagDuration   = flag.Duration("duration", 10*time.Second, "load duration of each run")
	flagIdle       = flag.Duration("idle", 30*time.Second, "idle measurement window")
	flagInstances  = flag.Int("instances", 50, "instances the wasm_runtime receiver scrapes")
	flagPresets    = flag.String("presets", "cloud,edge", "presets to run")
	flagLoads      = flag.String("loads", "1000,10000,0", "offered spans/s per run; 0 is saturation (no throttling)")
	flagOut        = flag.String("out", "docs/benchmarks.md", "report")
	flagChart      = flag.String("chart", "bench/results/benchmarks.svg", "chart")
	flagCPUProfile = flag.String("cpuprofile", "", "directory: save a CPU profile of each loaded run (pprof extension, the middle of the load window)")
)

// run is one measurement of one collector under one load.
type run struct {
	Dist, Preset string
	Load         int // offered spans/s, 0 = saturation
	CPUSeconds   float64
	PeakRSS      int64
	Accepted     float64
	Refused      float64
	Exported     float64
	Dropped      float64 // refused + send failed + enqueue failed
	AtSink       int64
	WireBytes    int64
	P99          time.Duration
	Seconds      float64 // load window
}

func main() {
	log.SetFlags(log.Ltime)
	flag.Parse()
	root := e2e.RepoRoot()
	if err := os.Chdir(root); err != nil {
		log.Fatal(err)
	}
	tg, err := e2e.ToolPath("telemetrygen")
	if err != nil {
		log.Fatal(err)
	}
	instances, stopInstances := startInstances(*flagInstances)
	defer stopInstances()

	bins := map[string]string{"stock": abs(*flagStock), "stock-memq": abs(*flagStock), "otelcol-virt": abs(*flagVirt), "otelcol-virt-edge": abs(*flagEdge)}
	var runs []run
	presets := strings.Split(*flagPresets, ",")
	loads := parseLoads(*flagLoads)
	for _, preset := range presets {
		order := distsFor(preset)
		for _, load := range loads {
			for i := range *flagRuns {
				// Rotate which collector goes first, so drift of the machine hits all of them.
				o := append(slices.Clone(order[i%len(order):]), order[:i%len(order)]...)
				for _, dist := range o {
					r, err := measure(bins[dist], dist, preset, load, tg, instances)
					if err != nil {
						log.Fatalf("%s %s %d: %v", dist, preset, load, err)
					}
					log.Printf("%-12s %-5s load %-6s cpu %.2fs rss %.1fMiB accepted %.0f (%.0f/s) exported %.0f dropped %.0f wire %dB p99 %s",
						dist, preset, loadName(load), r.CPUSeconds, mib(r.PeakRSS), r.Accepted, r.Accepted/r.Seconds, r.Exported, r.Dropped, r.WireBytes, r.P99)
					runs = append(runs, r)
				}
			}
		}
	}
	idle := measureIdle(bins, instances)
	writeReport(runs, idle, presets, loads)
}

// distsFor lists the collectors a preset is run by. "stock" is the like-for-like baseline: the
// stock pipeline the preset expands to, persistent queue included, which the ratios and goals are
// computed against. The cloud preset is also run by "stock-memq", the same pipeline with the
// in-memory queue a stock collector has by default, so the price of the disk queue shows.
func distsFor(preset string) []string {
	if preset == "cloud" {
		return []string{"stock", "stock-memq", "otelcol-virt"}
	}
	return []string{"stock", "otelcol-virt"}
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(a); err != nil {
		log.Fatalf("%s: %v (run `make bench-e2e`, which builds it)", p, err)
	}
	return a
}

func parseLoads(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatalf("-loads: %v", err)
		}
		out = append(out, n)
	}
	return out
}

func loadName(l int) string {
	if l == 0 {
		return "max"
	}
	return fmt.Sprintf("%dk", l/1000)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// startInstances starts n long-sleeping processes under a distinct name, the instances a
// user-defined wasm_runtime runtime matches (comm ^bench-instance$).
func startInstances(n int) (string, func()) {
	dir, err := os.MkdirTemp("", "otelcol-virt-bench-")
	if err != nil {
		log.Fatal(err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		log.Fatal(err)
	}
	raw, err := os.ReadFile(sleep)
	if err != nil {
		log.Fatal(err)
	}
	bin := filepath.Join(dir, "bench-instance")
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		log.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range n {
		c := exec.Command(bin, "86400")
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			log.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	// The examples read instances through the instance_inventory extension: the matcher goes there.
	runtimes := "extensions:\n  instance_inventory:\n    runtimes:\n      - {name: bench, kind: wasm, comm: '^bench-instance$'}\n"
	cfg := filepath.Join(dir, "instances.yaml")
	if err := os.WriteFile(cfg, []byte(runtimes), 0o644); err != nil {
		log.Fatal(err)
	}
	return cfg, func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		_ = os.RemoveAll(dir)
	}
}

// collector is a running collector process.
type collector struct {
	cmd       *exec.Cmd
	out       *strings.Builder
	telemetry string
	otlp      string
	tmp       string
}

func freeEndpoint() string {
	// e2e.FreeEndpoint needs a testing.TB; this is the same thing.
	l, err := netListen()
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// configFor returns the --config and --set arguments of a preset for one collector.
func configFor(dist, preset string, sink *e2e.CountingSink, instances, tmp, otlp, otlpHTTP string) []string {
	ports := []string{
		"--set", "receivers::otlp::protocols::grpc::endpoint=" + otlp,
		"--set", "receivers::otlp::protocols::http::endpoint=" + otlpHTTP,
		"--set", "extensions::health_check::endpoint=" + freeEndpoint(),
		"--set", "exporters::prometheus::endpoint=" + freeEndpoint(),
	}
	if !strings.HasPrefix(dist, "stock") {
		example := filepath.Join(e2e.RepoRoot(), "examples", preset+".yaml")
		if dist == "otelcol-virt-edge" {
			// The edge distribution has no Prometheus exporter: the metrics go out over OTLP only.
			example = withoutPrometheus(example, tmp)
			ports = ports[:6]
		}
		args := []string{"--config", example, "--config", instances}
		args = append(args, ports...)
		return append(args,
			"--set", "extensions::edge_profile::control::endpoint="+freeEndpoint(),
			"--set", "extensions::edge_profile::storage_directory="+tmp,
			"--set", "extensions::edge_profile::endpoints::otlp_http="+sink.HTTPEndpoint,
			"--set", "extensions::edge_profile::endpoints::otlp_grpc=http://"+sink.GRPCEndpoint,
		)
	}
	cfg := filepath.Join(tmp, "stock.yaml")
	if err := os.WriteFile(cfg, []byte(stockConfig(preset, dist == "stock", sink, tmp)), 0o644); err != nil {
		log.Fatal(err)
	}
	return append([]string{"--config", cfg}, ports...)
}

func startCollector(bin string, args []string, telemetry string) (*collector, error) {
	host, port, _ := strings.Cut(telemetry, ":")
	args = append(args, "--config", fmt.Sprintf("yaml:service::telemetry::metrics: {level: detailed, readers: [{pull: {exporter: {prometheus: {host: %q, port: %s, without_scope_info: true, without_type_suffix: false}}}}]}", host, port))
	cmd := exec.Command(bin, args...)
	out := &strings.Builder{}
	w := &lockedWriter{b: out}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &collector{cmd: cmd, out: out, telemetry: telemetry}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(w.String(), "Everything is ready") {
			return c, nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("collector not ready:\n%s", w.String())
}

func (c *collector) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

func measure(bin, dist, preset string, load int, tg, instances string) (run, error) {
	r := run{Dist: dist, Preset: preset, Load: load}
	sink, err := e2e.StartCountingSink(e2e.CountingSinkOptions{})
	if err != nil {
		return r, err
	}
	defer sink.Close()
	tmp, err := os.MkdirTemp("", "otelcol-virt-bench-run-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	otlp, otlpHTTP, telemetry := freeEndpoint(), freeEndpoint(), freeEndpoint()
	args := configFor(dist, preset, sink, instances, tmp, otlp, otlpHTTP)
	pprofEndpoint := ""
	if *flagCPUProfile != "" {
		pprofEndpoint = freeEndpoint()
		args = append(args, profileArgs(dist, pprofEndpoint)...)
	}
	c, err := startCollector(bin, args, telemetry)
	if err != nil {
		return r, err
	}
	defer c.stop()
	time.Sleep(2 * time.Second) // settle after start
	pid := c.cmd.Process.Pid
	cpu0, err := e2e.CPUSeconds(pid)
	if err != nil {
		return r, err
	}

	// telemetrygen paces spans per worker; 1,000 spans/s per worker is what one worker holds
	// steadily here. Saturation: no pacing, as many workers as cores.
	workers, rate := 1, 0
	if load > 0 {
		workers = max(1, load/1000)
		rate = load / workers
	} else {
		workers = runtime.NumCPU()
	}
	profiled := make(chan struct{})
	if pprofEndpoint != "" {
		// The middle of the load window: after the first 20 %, for 60 % of it.
		go func() {
			defer close(profiled)
			time.Sleep(*flagDuration / 5)
			captureCPUProfile(pprofEndpoint, fmt.Sprintf("%s-%s-%s-%d", dist, preset, loadName(load), time.Now().UnixNano()), max(time.Second, *flagDuration*3/5))
		}()
	} else {
		close(profiled)
	}
	start := time.Now()
	out, err := exec.Command(tg, "traces", "--otlp-endpoint", otlp, "--otlp-insecure",
		"--duration", flagDuration.String(), "--rate", strconv.Itoa(rate), "--workers", strconv.Itoa(workers),
		"--child-spans", "1").CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("telemetrygen: %v\n%s", err, out)
	}
	r.Seconds = time.Since(start).Seconds()
	<-profiled

	// Drain: wait until the exported count stops moving. The cloud preset's partial last
	// batch (< 512 spans, 30 s flush) is not waited for.
	var m e2e.Metrics
	deadline := time.Now().Add(20 * time.Second)
	last, stable := -1.0, 0
	for time.Now().Before(deadline) {
		m, err = e2e.ScrapeMetrics(telemetry)
		if err != nil {
			return r, err
		}
		sent, _ := m.Get("otelcol_exporter_sent_spans_total")
		if sent == last {
			stable++
			if stable >= 3 {
				break
			}
		} else {
			stable = 0
		}
		last = sent
		time.Sleep(500 * time.Millisecond)
	}
	cpu1, err := e2e.CPUSeconds(pid)
	if err != nil {
		return r, err
	}
	st, err := e2e.ReadProcStats(pid)
	if err != nil {
		return r, err
	}
	r.CPUSeconds = cpu1 - cpu0
	r.PeakRSS = st.PeakRSSBytes
	r.Accepted, _ = m.Get("otelcol_receiver_accepted_spans_total")
	r.Refused, _ = m.Get("otelcol_receiver_refused_spans_total")
	r.Exported, _ = m.Get("otelcol_exporter_sent_spans_total")
	failed, _ := m.Get("otelcol_exporter_send_failed_spans_total")
	enqFailed, _ := m.Get("otelcol_exporter_enqueue_failed_spans_total")
	r.Dropped = r.Refused + failed + enqFailed
	r.AtSink = sink.Spans()
	r.WireBytes = sink.WireBytes()
	r.P99 = sink.LatencyQuantile(0.99)
	return r, nil
}

// withoutPrometheus writes a copy of an example without its Prometheus exporter.
func withoutPrometheus(example, tmp string) string {
	raw, err := os.ReadFile(example)
	if err != nil {
		log.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		log.Fatal(err)
	}
	if exps, ok := cfg["exporters"].(map[string]any); ok {
		delete(exps, "prometheus")
		if len(exps) == 0 {
			delete(cfg, "exporters")
		}
	}
	svc, _ := cfg["service"].(map[string]any)
	pipelines, _ := svc["pipelines"].(map[string]any)
	for _, p := range pipelines {
		pm, _ := p.(map[string]any)
		exps, _ := pm["exporters"].([]any)
		var kept []any
		for _, e := range exps {
			if e != "prometheus" {
				kept = append(kept, e)
			}
		}
		pm["exporters"] = kept
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		log.Fatal(err)
	}
	p := filepath.Join(tmp, "edge-distribution.yaml")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		log.Fatal(err)
	}
	return p
}
