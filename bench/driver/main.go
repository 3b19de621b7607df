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
	"time"

	"github.com/otelcol-virt/otelcol-virt/bench/benchkit"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
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
	instances, stopInstances, err := benchkit.StartInstances(*flagInstances)
	if err != nil {
		log.Fatal(err)
	}
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
						dist, preset, loadName(load), r.CPUSeconds, benchkit.MiB(r.PeakRSS), r.Accepted, r.Accepted/r.Seconds, r.Exported, r.Dropped, r.WireBytes, r.P99)
					runs = append(runs, r)
				}
			}
		}
	}
	idle := measureIdle(bins, instances)
	routing := measureRoutingShare(3)
	writeReport(runs, idle, routing, presets, loads)
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

// configFor returns the --config and --set arguments of a preset for one collector.
func configFor(dist, preset string, sink *e2e.CountingSink, instances, tmp, otlp, otlpHTTP string) []string {
	if !strings.HasPrefix(dist, "stock") {
		args, err := benchkit.ExampleArgs(dist, filepath.Join(e2e.RepoRoot(), "examples", preset+".yaml"), instances, tmp, sink, otlp, otlpHTTP)
		if err != nil {
			log.Fatal(err)
		}
		return args
	}
	cfg := filepath.Join(tmp, "stock.yaml")
	if err := os.WriteFile(cfg, []byte(stockConfig(preset, dist == "stock", sink, tmp)), 0o644); err != nil {
		log.Fatal(err)
	}
	return append([]string{"--config", cfg}, benchkit.ListenerArgs(otlp, otlpHTTP, true)...)
}

// startCollector starts a collector with its detailed self-telemetry on telemetry.
func startCollector(bin string, args []string, telemetry string) (*benchkit.Collector, error) {
	return benchkit.Start(exec.Command(bin, append(args, benchkit.TelemetryArgs(telemetry)...)...), nil)
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
	otlp, otlpHTTP, telemetry := benchkit.FreeEndpoint(), benchkit.FreeEndpoint(), benchkit.FreeEndpoint()
	args := configFor(dist, preset, sink, instances, tmp, otlp, otlpHTTP)
	pprofEndpoint := ""
	if *flagCPUProfile != "" {
		pprofEndpoint = benchkit.FreeEndpoint()
		args = append(args, profileArgs(dist, pprofEndpoint)...)
	}
	c, err := startCollector(bin, args, telemetry)
	if err != nil {
		return r, err
	}
	defer c.Stop()
	time.Sleep(2 * time.Second) // settle after start
	pid := c.Pid()
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
