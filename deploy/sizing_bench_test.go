package deploy

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// The sizing benchmarks run the real collector with the deployment configurations and measure
// the process from outside (/proc/<pid>/stat and status), as an operator would size it:
//
//	go test -run '^$' -bench 'BenchmarkAgent' -benchtime 1x ./deploy
//
// The load lasts sizingRun per iteration; use -benchtime 1x.
const sizingRun = 20 * time.Second

// procUsage is the CPU time (utime+stime) and memory of a process.
type procUsage struct {
	cpu        time.Duration
	rss, hwmKB int64
}

func readProcUsage(b *testing.B, pid int) procUsage {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may contain spaces) start after the last ')'.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	u := procUsage{cpu: time.Duration(utime+stime) * time.Second / ticksPerSecond}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.rss = n
		case "VmHWM":
			u.hwmKB = n
		}
	}
	return u
}

// selfMetric reads one counter of the collector's own Prometheus telemetry.
func selfMetric(b *testing.B, endpoint, name string) float64 {
	b.Helper()
	resp, err := http.Get("http://" + endpoint + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

// BenchmarkAgentSpans: CPU and memory of a node agent (the Kubernetes overlays' agent.yaml)
// taking about 10k spans/s over OTLP/gRPC and exporting to an OTLP sink.
func BenchmarkAgentSpans(b *testing.B) {
	for _, preset := range []string{"edge", "cloud"} {
		b.Run(preset, func(b *testing.B) {
			sink := e2e.NewSink(b)
			set := []string{
				"extensions::instance_inventory::root_path=/",
				"exporters::prometheus::endpoint=" + e2e.FreeEndpoint(b),
			}
			if preset == "edge" {
				set = append(set, "exporters::otlp_http/gateway::endpoint="+sink.HTTPEndpoint)
			} else {
				set = append(set, "exporters::otlp_grpc/gateway::endpoint="+sink.GRPCEndpoint)
			}
			benchmarkSpanLoad(b, repoPath(k8sDir, "overlays", preset, "agent.yaml"), set,
				map[string]string{"K8S_POD_IP": "127.0.0.1", "K8S_NODE_NAME": "bench"})
		})
	}
}

// BenchmarkGatewaySpans: the same load through the gateway's configuration (base/gateway.yaml),
// exporting OTLP/gRPC to a sink standing for the backend.
func BenchmarkGatewaySpans(b *testing.B) {
	sink := e2e.NewSink(b)
	queue := b.TempDir() // the StatefulSet's volume claim
	benchmarkSpanLoad(b, repoPath(k8sDir, "base", "gateway.yaml"), []string{
		"extensions::file_storage/queue::directory=" + queue,
		"extensions::file_storage/queue::compaction::directory=" + queue,
	}, map[string]string{
		"K8S_POD_IP":                    "127.0.0.1",
		"OTELCOL_VIRT_BACKEND_ENDPOINT": sink.GRPCEndpoint,
		"OTELCOL_VIRT_BACKEND_INSECURE": "true",
	})
}

// benchmarkSpanLoad starts the collector with config (listeners moved to free ports), sends it
// spans with telemetrygen for sizingRun, and reports its CPU and memory.
func benchmarkSpanLoad(b *testing.B, config string, set []string, env map[string]string) {
	telemetrygen := e2e.Tool(b, "telemetrygen")
	bin := e2e.CollectorBinary(b)
	grpc, self := e2e.FreeEndpoint(b), e2e.FreeEndpoint(b)
	set = append([]string{
		"extensions::health_check::endpoint=" + e2e.FreeEndpoint(b),
		"receivers::otlp::protocols::grpc::endpoint=" + grpc,
		"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(b),
	}, set...)
	for i := 0; i < b.N; i++ {
		c := e2e.StartCollector(b, e2e.Options{
			Binary:            bin,
			Configs:           []string{config},
			Set:               set,
			Env:               env,
			TelemetryEndpoint: self,
		})
		time.Sleep(2 * time.Second) // let start-up settle before measuring
		before := readProcUsage(b, c.Pid())
		b.ReportMetric(float64(before.rss)/1024, "MiB-rss-idle")
		spansBefore := selfMetric(b, self, "otelcol_receiver_accepted_spans_total")
		// 4 workers x 2500/s; telemetrygen's rate counts one per trace of a root and a child
		// span, and it reaches about 10k spans/s accepted here.
		gen := exec.Command(telemetrygen, "traces", "--otlp-endpoint="+grpc, "--otlp-insecure",
			"--workers=4", "--rate=2500", "--child-spans=1", "--duration="+sizingRun.String())
		gen.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		start := time.Now()
		if out, err := gen.CombinedOutput(); err != nil {
			b.Fatalf("telemetrygen: %v\n%s", err, out)
		}
		elapsed := time.Since(start)
		after := readProcUsage(b, c.Pid())
		spans := selfMetric(b, self, "otelcol_receiver_accepted_spans_total") - spansBefore
		if spans == 0 {
			b.Fatal("the collector accepted no span")
		}
		rate := spans / elapsed.Seconds()
		cores := (after.cpu - before.cpu).Seconds() / elapsed.Seconds()
		b.ReportMetric(rate, "spans/s")
		b.ReportMetric(cores, "cores")
		b.ReportMetric(cores*10000/rate, "cores/10k-spans/s")
		b.ReportMetric(float64(after.hwmKB)/1024, "MiB-peak-rss")
		b.ReportMetric(float64(after.rss)/1024, "MiB-rss")
		_ = c.Stop()
	}
}

// BenchmarkAgentInstances: CPU and memory of the wasm_runtime receiver watching 100 instances
// (sleep processes declared as a Wasm runtime, so that only the receiver's reads cost anything),
// scraped every second.
func BenchmarkAgentInstances(b *testing.B) {
	const instances = 100
	bin := e2e.CollectorBinary(b)
	for i := 0; i < instances; i++ {
		cmd := exec.Command("sleep", "3600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	sink := e2e.NewSink(b)
	config := `
receivers:
  wasm_runtime:
    collection_interval: 1s
    runtimes:
      - name: bench
        kind: wasm
        comm: ^sleep$
exporters:
  otlp_http:
    endpoint: ` + sink.HTTPEndpoint + `
    compression: gzip
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      exporters: [otlp_http]
`
	for i := 0; i < b.N; i++ {
		c := e2e.StartCollector(b, e2e.Options{Binary: bin, Configs: []string{e2e.WriteConfig(b, config)}})
		// Wait for a scrape that saw them all, or give up when the receiver reports nothing.
		found := 0
		sink.WaitFor(15*time.Second, func(s *e2e.Sink) bool {
			found = maxInstancesSeen(s)
			return found >= instances
		})
		if found < instances {
			b.Fatalf("the receiver reported %d instances of runtime bench, want >= %d", found, instances)
		}
		before := readProcUsage(b, c.Pid())
		time.Sleep(sizingRun)
		after := readProcUsage(b, c.Pid())
		cores := (after.cpu - before.cpu).Seconds() / sizingRun.Seconds()
		b.ReportMetric(float64(found), "instances")
		b.ReportMetric(cores, "cores@1s-interval")
		b.ReportMetric(cores*1000, "cpu-ms/scrape")
		b.ReportMetric(float64(after.hwmKB)/1024, "MiB-peak-rss")
		_ = c.Stop()
	}
}

func maxInstancesSeen(s *e2e.Sink) int {
	// The most instances of runtime "bench" one export carried, by their resources.
	best := 0
	for _, r := range s.Requests() {
		if r.Signal != "metrics" {
			continue
		}
		ids := map[string]bool{}
		rms := r.Metrics.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			attrs := rms.At(i).Resource().Attributes()
			rt, _ := attrs.Get("wasm_runtime.runtime")
			id, ok := attrs.Get("wasm_runtime.instance.id")
			if ok && rt.Str() == "bench" {
				ids[id.Str()] = true
			}
		}
		best = max(best, len(ids))
	}
	return best
}
