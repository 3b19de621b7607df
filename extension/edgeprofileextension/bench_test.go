package edgeprofileextension_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pipeline"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// BenchmarkPresetCostComparison is the benchmark behind the table in README.md: for each preset it
// sends the same spans through (a) edge_profile (routing connector -> generated pipeline) and
// (b) a stock pipeline built from exactly the same sampler and exporter settings without the
// connector, and reports bytes on the wire and collector CPU per 10,000 spans. bench.sh runs it
// once (-benchtime 1x) and prints the table; EDGE_PROFILE_BENCH_REPS sets the repetitions.
//
// The two variants run as adjacent pairs, the order alternating from pair to pair, so drift of a
// shared machine hits both; the cost is the median of the pairs' ratios, with their range.
// EDGE_PROFILE_BENCH_SPANS sets the spans per run (60,000), EDGE_PROFILE_BENCH_STORAGE the
// directory of the persistent queues (a temporary directory; a tmpfs takes the disk's flushes
// out), EDGE_PROFILE_BENCH_PRESETS=cloud,... the presets; EDGE_PROFILE_BENCH_PPROF=<dir> saves a
// CPU profile of each run's load (the distribution's pprof extension) to compare the variants.
func BenchmarkPresetCostComparison(t *testing.B) {
	spansPerRun := 60_000 // 4 telemetrygen workers x 7,500 traces of two spans
	if v, err := strconv.Atoi(os.Getenv("EDGE_PROFILE_BENCH_SPANS")); err == nil && v >= 8 {
		spansPerRun = v / 8 * 8 // whole traces of two spans for each of 4 workers
	}
	reps := 7
	if v, err := strconv.Atoi(os.Getenv("EDGE_PROFILE_BENCH_REPS")); err == nil && v > 0 {
		reps = v
	}
	type result struct {
		cpu  []float64 // CPU seconds per 10,000 spans sent
		wire []float64 // bytes on the wire per 10,000 spans sent
	}
	results := map[string]*result{}
	pairRatios := map[string][]float64{} // per preset: edge_profile CPU / stock CPU of one pair
	presets := []string{"edge", "cloud", "hybrid"}
	if v := os.Getenv("EDGE_PROFILE_BENCH_PRESETS"); v != "" {
		presets = strings.Split(v, ",")
	}
	for _, preset := range presets {
		for rep := 0; rep < reps; rep++ {
			order := []string{"stock", "edge_profile"}
			if rep%2 == 1 {
				order = []string{"edge_profile", "stock"}
			}
			cpuOf := map[string]float64{}
			for _, variant := range order {
				key := preset + "/" + variant
				if results[key] == nil {
					results[key] = &result{}
				}
				cpu, wire := runCostOnce(t, preset, variant, spansPerRun, fmt.Sprintf("%s-%s-%d", preset, variant, rep))
				cpuOf[variant] = cpu
				results[key].cpu = append(results[key].cpu, cpu*10_000/float64(spansPerRun))
				results[key].wire = append(results[key].wire, wire*10_000/float64(spansPerRun))
			}
			if cpuOf["stock"] > 0 {
				pairRatios[preset] = append(pairRatios[preset], cpuOf["edge_profile"]/cpuOf["stock"])
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| preset | pipeline | bytes on the wire / 10k spans | collector CPU ms / 10k spans (median of %d) | CPU vs stock (median of %d pairs) | pairs' range |\n|---|---|---:|---:|---:|---:|\n", reps, reps)
	for _, preset := range presets {
		for _, variant := range []string{"stock", "edge_profile"} {
			r := results[preset+"/"+variant]
			vsStock, spread := "", ""
			if variant == "edge_profile" && len(pairRatios[preset]) > 0 {
				pr := pairRatios[preset]
				vsStock = fmt.Sprintf("%+.1f %%", 100*(median(pr)-1))
				spread = fmt.Sprintf("%+.1f … %+.1f %%", 100*(slices.Min(pr)-1), 100*(slices.Max(pr)-1))
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.1f | %s | %s |\n", preset, variant, median(r.wire), median(r.cpu)*1000, vsStock, spread)
		}
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("EDGE_PROFILE_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// runCostOnce runs one collector, sends spans and returns the collector's CPU seconds while
// it handled them and the bytes that reached the sink.
func runCostOnce(t testing.TB, preset, variant string, spans int, name string) (cpuSeconds, wireBytes float64) {
	sink := e2e.NewSink(t)
	otlp := e2e.FreeEndpoint(t)
	storage := t.TempDir()
	if dir := os.Getenv("EDGE_PROFILE_BENCH_STORAGE"); dir != "" {
		storage = filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(storage, 0o755))
		t.Cleanup(func() { _ = os.RemoveAll(storage) })
	}
	extCfg := map[string]any{
		"profile":           preset,
		"storage_directory": storage,
		"endpoints": map[string]any{
			"otlp_http": sink.HTTPEndpoint,
			"otlp_grpc": "http://" + sink.GRPCEndpoint,
		},
		"control": map[string]any{"endpoint": e2e.FreeEndpoint(t)},
	}
	user := map[string]any{
		"extensions": map[string]any{"edge_profile": extCfg},
		"receivers":  map[string]any{"otlp": map[string]any{"protocols": map[string]any{"grpc": map[string]any{"endpoint": otlp}}}},
		"service": map[string]any{
			"extensions": []any{"edge_profile"},
			"pipelines": map[string]any{
				"traces": map[string]any{"receivers": []any{"otlp"}, "exporters": []any{"edge_profile"}},
			},
		},
	}
	conf := confmap.NewFromStringMap(user)
	_, err := edgeprofileextension.ExpandConfig(conf)
	require.NoError(t, err)
	final := conf.ToStringMap()
	if variant == "stock" {
		final = stockEquivalent(t, final, preset, otlp)
	}
	profileDir, pprofAt := os.Getenv("EDGE_PROFILE_BENCH_PPROF"), ""
	if profileDir != "" {
		pprofAt = e2e.FreeEndpoint(t)
		final["extensions"].(map[string]any)["pprof"] = map[string]any{"endpoint": pprofAt}
		svc := final["service"].(map[string]any)
		svc["extensions"] = append(slices.Clone(svc["extensions"].([]any)), "pprof")
	}
	raw, err := yaml.Marshal(final)
	require.NoError(t, err)
	c := e2e.StartCollector(t, e2e.Options{Configs: []string{e2e.WriteConfig(t, string(raw))}})
	time.Sleep(time.Second)
	before := processCPU(t, c.Pid())
	profiled := make(chan struct{})
	if pprofAt != "" {
		go func() {
			defer close(profiled)
			// The pacing (4 workers, at most 2,500 traces of two spans a second each) makes the
			// load last at least spans / 20,000 s: the profile starts 1 s in and ends within it.
			time.Sleep(time.Second)
			if err := e2e.SaveCPUProfile(pprofAt, time.Duration(max(1, spans/20_000-1))*time.Second, filepath.Join(profileDir, name+".pprof")); err != nil {
				t.Error(err)
			}
		}()
	} else {
		close(profiled)
	}
	const workers = 4 // --traces counts per worker
	telemetrygen(t, "--otlp-endpoint", otlp, "--otlp-insecure", "--traces", fmt.Sprint(spans/2/workers),
		"--child-spans", "0", "--rate", "2500", "--workers", fmt.Sprint(workers))
	time.Sleep(2 * time.Second) // full batches are out; partial ones do not change the CPU figure
	cpuSeconds = processCPU(t, c.Pid()) - before
	<-profiled
	require.NoError(t, c.Stop())
	// Counted after shutdown, which flushes the partial batches: the figure covers every span.
	for _, r := range sink.Requests() {
		if r.Signal == "traces" {
			wireBytes += float64(r.WireBytes)
		}
	}
	return cpuSeconds, wireBytes
}

// stockEquivalent rewires the expanded configuration as a plain pipeline: the receiver feeds
// the preset's sampler and exporter directly, without the routing connector and the other
// presets' pipelines. The extension stays (it is idle: no control request, no auto mode).
func stockEquivalent(t testing.TB, m map[string]any, preset, otlp string) map[string]any {
	names := edgeprofileextension.Names{}
	require.NoError(t, names.Extension.UnmarshalText([]byte("edge_profile")))
	svc := m["service"].(map[string]any)
	pipelines := svc["pipelines"].(map[string]any)
	gen := pipelines[names.Pipeline(pipeline.SignalTraces, preset).String()].(map[string]any)
	delete(m, "connectors")
	svc["pipelines"] = map[string]any{
		"traces": map[string]any{
			"receivers":  []any{"otlp"},
			"processors": gen["processors"],
			"exporters":  gen["exporters"],
		},
	}
	return m
}

// processCPU returns the CPU time of a process's threads in seconds, in nanoseconds'
// resolution (a run uses about 100 ms; /proc/<pid>/stat counts 10 ms ticks).
func processCPU(t testing.TB, pid int) float64 {
	s, err := e2e.ThreadCPUSeconds(pid)
	require.NoError(t, err)
	return s
}
