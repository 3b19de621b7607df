// Command gateway measures what one gateway replica of the Kubernetes example carries at one
// CPU: the real otelcol-virt with examples/kubernetes/base/gateway.yaml (persistent queue on
// a scratch directory) in a cgroup limited to one CPU (the StatefulSet's limit), at
// saturation, exporting to an OTLP sink standing for the backend. The load comes from
// concurrent OTLP/gRPC clients sending agent-sized batches (512 spans per request, the cloud
// preset's batch) of a pre-encoded request: telemetrygen's SDK pipeline costs more CPU per
// span than the gateway and cannot saturate it on a 2-core machine. It prints a
// Markdown table of spans/s accepted and delivered, CPU used and peak RSS, per run, and the
// median.
//
//	make bench-gateway
//	go run ./bench/gateway -runs 3 -duration 20s
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/bench/benchkit"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

var (
	flagVirt     = flag.String("virt", "bin/otelcol-virt", "otelcol-virt binary")
	flagRuns     = flag.Int("runs", 3, "runs")
	flagDuration = flag.Duration("duration", 20*time.Second, "load duration of each run")
	flagWorkers  = flag.Int("workers", 8, "concurrent OTLP/gRPC senders")
	flagCPU      = flag.Float64("cpus", 1, "CPU limit of the gateway (CFS quota)")
	flagFsync    = flag.Bool("fsync", false, "file_storage fsync, as gateway.yaml's option")
)

type result struct {
	accepted, delivered, cpu, seconds float64
	peakRSS                           int64
	throttled                         int64
}

func main() {
	log.SetFlags(log.Ltime)
	flag.Parse()
	root := e2e.RepoRoot()
	if err := os.Chdir(root); err != nil {
		log.Fatal(err)
	}
	bin, err := filepath.Abs(*flagVirt)
	if err != nil {
		log.Fatal(err)
	}
	cg, err := newCPUCgroup(*flagCPU)
	if err != nil {
		log.Fatalf("a CPU-limited cgroup (run as root on cgroup v1 or v2): %v", err)
	}
	defer cg.remove()

	var runs []result
	for i := range *flagRuns {
		r, err := measure(bin, cg)
		if err != nil {
			log.Fatalf("run %d: %v", i+1, err)
		}
		log.Printf("run %d: accepted %.0f spans/s, delivered %.0f spans/s, cpu %.2f cores, peak rss %.1f MiB, throttled periods %d",
			i+1, r.accepted/r.seconds, r.delivered/r.seconds, r.cpu/r.seconds, float64(r.peakRSS)/(1<<20), r.throttled)
		runs = append(runs, r)
	}
	fmt.Print(report(runs))
}

func report(runs []result) string {
	var b strings.Builder
	// Spans per CPU-second is what one replica carries at its 1-CPU limit when the load
	// saturates it; on a shared machine the senders may not, and the rate alone would understate it.
	fmt.Fprintf(&b, "\n| run | accepted spans/s | delivered spans/s | CPU (cores) | spans per CPU-second | peak RSS | throttled periods |\n|---|---|---|---|---|---|---|\n")
	var acc, del, per []float64
	for i, r := range runs {
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.2f | %.0f | %.1f MiB | %d |\n", i+1, r.accepted/r.seconds, r.delivered/r.seconds, r.cpu/r.seconds,
			r.accepted/r.cpu, float64(r.peakRSS)/(1<<20), r.throttled)
		acc = append(acc, r.accepted/r.seconds)
		del = append(del, r.delivered/r.seconds)
		per = append(per, r.accepted/r.cpu)
	}
	fmt.Fprintf(&b, "| median | %.0f | %.0f | | %.0f | | |\n", benchkit.Median(acc), benchkit.Median(del), benchkit.Median(per))
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "\n%d runs of %s, %d OTLP/gRPC senders of 512-span requests, gateway limited to %.2g CPU (CFS quota), fsync %v; %d CPUs online, load average at the end %s.\n",
		len(runs), *flagDuration, *flagWorkers, *flagCPU, *flagFsync, numCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	return b.String()
}

func numCPU() int {
	out, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

func measure(bin string, cg *cpuCgroup) (result, error) {
	var r result
	sink, err := e2e.StartCountingSink(e2e.CountingSinkOptions{})
	if err != nil {
		return r, err
	}
	defer sink.Close()
	queue, err := os.MkdirTemp("", "otelcol-virt-bench-gateway-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(queue)
	otlp, telemetry := benchkit.FreeEndpoint(), benchkit.FreeEndpoint()
	host, port, _ := strings.Cut(telemetry, ":")
	args := []string{
		"--config", filepath.Join("examples", "kubernetes", "base", "gateway.yaml"),
		"--set", "receivers::otlp::protocols::grpc::endpoint=" + otlp,
		"--set", "receivers::otlp::protocols::http::endpoint=" + benchkit.FreeEndpoint(),
		"--set", "extensions::health_check::endpoint=" + benchkit.FreeEndpoint(),
		"--set", "extensions::file_storage/queue::directory=" + queue,
		"--set", "extensions::file_storage/queue::compaction::directory=" + queue,
		"--set", "extensions::file_storage/queue::fsync=" + strconv.FormatBool(*flagFsync),
		"--config", fmt.Sprintf("yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: %q, port: %s, without_type_suffix: false, without_units: false, without_scope_info: true}}}}]", host, port),
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "K8S_POD_IP=127.0.0.1", "OTELCOL_VIRT_BACKEND_ENDPOINT="+sink.GRPCEndpoint,
		"OTELCOL_VIRT_BACKEND_INSECURE=true", "GOMEMLIMIT=409MiB")
	col, err := benchkit.Start(cmd, cg.add)
	if err != nil {
		return r, fmt.Errorf("gateway: %w", err)
	}
	defer col.Stop()
	time.Sleep(2 * time.Second)
	pid := col.Pid()
	cpu0, err := e2e.CPUSeconds(pid)
	if err != nil {
		return r, err
	}
	m0, err := e2e.ScrapeMetrics(telemetry)
	if err != nil {
		return r, err
	}
	acc0, _ := m0.Get("otelcol_receiver_accepted_spans_total")
	sink0 := sink.Spans()
	thr0 := cg.throttled()
	start := time.Now()
	if err := load(otlp, *flagDuration, *flagWorkers); err != nil {
		return r, err
	}
	r.seconds = time.Since(start).Seconds()
	cpu1, _ := e2e.CPUSeconds(pid)
	m1, err := e2e.ScrapeMetrics(telemetry)
	if err != nil {
		return r, err
	}
	acc1, _ := m1.Get("otelcol_receiver_accepted_spans_total")
	st, err := e2e.ReadProcStats(pid)
	if err != nil {
		return r, err
	}
	r.accepted = acc1 - acc0
	r.delivered = float64(sink.Spans() - sink0)
	r.cpu = cpu1 - cpu0
	r.peakRSS = st.PeakRSSBytes
	r.throttled = cg.throttled() - thr0
	return r, nil
}
