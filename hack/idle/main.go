// Command idle measures the idle RSS and CPU of collector binaries the way `make bench-e2e`
// (bench/driver, measureIdle) does: 50 real processes matched by a user-defined runtime, the
// example with its listeners on free loopback ports and the backend set to a counting sink,
// detailed self-telemetry on a Prometheus pull endpoint, 5 s settle after "Everything is
// ready", then CPU over a 30 s window and VmRSS at its end. It alternates the cases run by
// run, so drift of a shared machine hits all of them, and prints medians.
//
//	go run ./hack/idle -runs 3 \
//	  -case old=/tmp/old-edge:otelcol-virt-edge:edge -case new=bin/otelcol-virt-edge:otelcol-virt-edge:edge
//
// A case is name=binary:distribution:preset, where preset names examples/<preset>.yaml or is a
// path ending in .yaml (a variant to try); the distribution is otelcol-virt or
// otelcol-virt-edge (which, as in the driver, runs the example without its Prometheus
// exporter). It also prints the split of the resident set (/proc/<pid>/smaps_rollup) and the
// context switches per second of all threads: the wakeups behind idle CPU.
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

type caseFlag []string

func (c *caseFlag) String() string     { return strings.Join(*c, ",") }
func (c *caseFlag) Set(v string) error { *c = append(*c, v); return nil }

var (
	flagRuns      = flag.Int("runs", 3, "runs per case")
	flagSettle    = flag.Duration("settle", 5*time.Second, "wait after the collector is ready")
	flagIdle      = flag.Duration("idle", 30*time.Second, "idle measurement window")
	flagInstances = flag.Int("instances", 50, "instances the wasm_runtime receiver scrapes")
	flagEnv       = flag.String("env", "", "extra environment of every collector, comma-separated K=V")
	flagKeep      = flag.Bool("keep", false, "print the collector's log of each run")
	flagConfig    = flag.String("config", "", "an extra --config of every collector (e.g. one adding the pprof extension)")
	flagAtEnd     = flag.String("at-end", "", "a shell command run at the end of each window, with PID set (e.g. to save a heap profile)")
	cases         caseFlag
)

type testCase struct{ name, bin, dist, preset string }

type sample struct {
	rss, anon, file, cpuPct, cswPerSec float64
}

func main() {
	log.SetFlags(log.Ltime)
	flag.Var(&cases, "case", "name=binary:distribution:preset (repeat)")
	flag.Parse()
	var cs []testCase
	for _, c := range cases {
		name, rest, ok := strings.Cut(c, "=")
		parts := strings.Split(rest, ":")
		if !ok || len(parts) != 3 {
			log.Fatalf("-case %q: want name=binary:distribution:preset", c)
		}
		bin, err := filepath.Abs(parts[0])
		if err != nil {
			log.Fatal(err)
		}
		cs = append(cs, testCase{name, bin, parts[1], parts[2]})
	}
	if len(cs) == 0 {
		log.Fatal("no -case")
	}
	instances, stop, err := benchkit.StartInstances(*flagInstances)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	results := map[string][]sample{}
	for i := range *flagRuns {
		// Rotate the order so that no case always runs first.
		for j := range cs {
			c := cs[(i+j)%len(cs)]
			s, err := measure(c, instances)
			if err != nil {
				log.Printf("%s: %v", c.name, err)
				continue
			}
			log.Printf("run %d %-10s rss %.1f MiB (anon %.1f, file %.1f) cpu %.3f %% csw/s %.1f",
				i+1, c.name, s.rss, s.anon, s.file, s.cpuPct, s.cswPerSec)
			results[c.name] = append(results[c.name], s)
		}
	}
	fmt.Printf("\n| case | runs | idle RSS MiB | anon MiB | file MiB | idle CPU %% of a core | context switches/s |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cs {
		r := results[c.name]
		pick := func(f func(sample) float64) float64 {
			var xs []float64
			for _, s := range r {
				xs = append(xs, f(s))
			}
			return benchkit.Median(xs)
		}
		fmt.Printf("| %s | %d | %.1f | %.1f | %.1f | %.3f | %.1f |\n", c.name, len(r),
			pick(func(s sample) float64 { return s.rss }), pick(func(s sample) float64 { return s.anon }),
			pick(func(s sample) float64 { return s.file }), pick(func(s sample) float64 { return s.cpuPct }),
			pick(func(s sample) float64 { return s.cswPerSec }))
	}
}

func measure(c testCase, instances string) (sample, error) {
	var s sample
	sink, err := e2e.StartCountingSink(e2e.CountingSinkOptions{})
	if err != nil {
		return s, err
	}
	defer sink.Close()
	tmp, err := os.MkdirTemp("", "otelcol-virt-idle-")
	if err != nil {
		return s, err
	}
	defer os.RemoveAll(tmp)
	example := filepath.Join(e2e.RepoRoot(), "examples", c.preset+".yaml")
	if strings.HasSuffix(c.preset, ".yaml") {
		example = c.preset // a configuration of one's own, to try a change
	}
	args, err := benchkit.ExampleArgs(c.dist, example, instances, tmp, sink, benchkit.FreeEndpoint(), benchkit.FreeEndpoint())
	if err != nil {
		return s, err
	}
	args = append(args, benchkit.TelemetryArgs(benchkit.FreeEndpoint())...)
	if *flagConfig != "" {
		args = append(args, "--config", *flagConfig)
	}
	cmd := exec.Command(c.bin, args...)
	if *flagEnv != "" {
		cmd.Env = append(os.Environ(), strings.Split(*flagEnv, ",")...)
	}
	col, err := benchkit.Start(cmd, nil)
	if err != nil {
		return s, err
	}
	defer func() {
		col.Stop()
		if *flagKeep {
			fmt.Println(col.Output())
		}
	}()
	time.Sleep(*flagSettle)
	pid := col.Pid()
	cpu0, _ := e2e.CPUSeconds(pid)
	csw0 := contextSwitches(pid)
	t0 := time.Now()
	time.Sleep(*flagIdle)
	cpu1, _ := e2e.CPUSeconds(pid)
	csw1 := contextSwitches(pid)
	secs := time.Since(t0).Seconds()
	st, err := e2e.ReadProcStats(pid)
	if err != nil {
		return s, err
	}
	s.rss = benchkit.MiB(st.RSSBytes)
	s.cpuPct = 100 * (cpu1 - cpu0) / secs
	s.cswPerSec = float64(csw1-csw0) / secs
	s.anon, s.file = rollup(pid)
	if *flagAtEnd != "" {
		sh := exec.Command("sh", "-c", *flagAtEnd)
		sh.Env = append(os.Environ(), "PID="+strconv.Itoa(pid), "CASE="+c.name)
		if b, err := sh.CombinedOutput(); err != nil {
			log.Printf("-at-end: %v\n%s", err, b)
		}
	}
	return s, nil
}

// contextSwitches sums voluntary and involuntary switches over the process's threads.
func contextSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n int64
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += x
			}
		}
	}
	return n
}

// rollup returns the anonymous and file-backed resident MiB from smaps_rollup.
func rollup(pid int) (anon, file float64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	var rss, an float64
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[0], 64)
		switch k {
		case "Rss":
			rss = kb / 1024
		case "Anonymous":
			an = kb / 1024
		}
	}
	return an, rss - an
}
