package scale

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// The defaults reproduce the figure the receiver README quotes; both can be changed from the
// environment for a bigger or quicker run.
const (
	defaultInstances = 1000
	defaultWindow    = 60 * time.Second
	interval         = 10 * time.Second
	// comm of the instances' processes: a copy of sleep(1) under this name, matched by a user
	// runtime, so that nothing else on the host is counted.
	sleeperName = "otelcol-scale"
)

const collectorConfig = `
receivers:
  wasm_runtime:
    collection_interval: 10s
    runtimes:
      - name: scale
        kind: wasm
        comm: ^` + sleeperName + `$
    include:                # nothing else this host runs (VMs of other tests) is measured
      runtimes: [scale]
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      exporters: [debug]
`

// BenchmarkScaleRealBinary starts N real processes (default 1,000), each in a real cgroup of
// its own with a CPU quota, a memory limit and a pids limit, and runs the real otelcol-virt
// binary over them at a 10 s interval. It reports the collector's CPU in % of one core and its
// RSS (the median of one sample a second over the window, and the largest), both also for the same binary on the same host before the instances started (the
// baseline, same run), and the pread floor: the least CPU any reader of the same files can
// spend, every file kept open and re-read with one pread, measured in this process on the same
// tree.
//
//	make bench-scale                 # or:
//	OTELCOL_VIRT_SCALE_INSTANCES=1000 go test -run '^$' -bench ScaleRealBinary -benchtime 1x ./bench/scale
func BenchmarkScaleRealBinary(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("creating 1,000 cgroups needs root")
	}
	n := envInt(b, "OTELCOL_VIRT_SCALE_INSTANCES", defaultInstances)
	window := defaultWindow
	if v := os.Getenv("OTELCOL_VIRT_SCALE_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < interval {
			b.Fatalf("OTELCOL_VIRT_SCALE_WINDOW=%q: want a duration of at least %s", v, interval)
		}
		window = d.Truncate(interval)
	}
	fdLimit := raiseFileLimit(b, 1<<16) // n × 18 files for the floor
	if need := uint64(n*18 + 1024); fdLimit < need {
		b.Fatalf("the floor keeps %d files open; the descriptor limit is %d", need, fdLimit)
	}
	bin := e2e.CollectorBinary(b)
	sleeper := filepath.Join(b.TempDir(), sleeperName)
	copyFile(b, "/bin/sleep", sleeper)

	for i := 0; i < b.N; i++ {
		base := measureCollector(b, bin, 0, window)

		parent := cgrouptest.New(b, cgrouptest.Limits{})
		var groups []*cgrouptest.Group
		var pids []int
		for j := 0; j < n; j++ {
			g := parent.Child(b, fmt.Sprintf("i%04d", j), cgrouptest.Limits{CPUQuotaUsec: 10_000, MemoryBytes: 64 << 20, Pids: 8})
			cmd := g.Command(sleeper, "infinity")
			if err := cmd.Start(); err != nil {
				b.Fatalf("starting instance %d: %v", j, err)
			}
			go func() { _ = cmd.Wait() }()
			groups = append(groups, g)
			pids = append(pids, cmd.Process.Pid)
		}
		waitExec(b, pids)

		got := measureCollector(b, bin, n, window)
		floor := measureFloor(b, parent.Layout, groups, pids)
		// The floor replays the receiver's reads only if it reads as many files: a receiver that
		// starts reading more (or less) per instance must show here, not make the ratio flatter.
		if d := floor.metricReads - got.readsPerScrape; d > 0.02*got.readsPerScrape || -d > 0.02*got.readsPerScrape {
			b.Fatalf("the floor reads %.0f files per pass for the instances, the collector %.0f per scrape: update floorFiles to the receiver's read set (TestReadBudget)", floor.metricReads, got.readsPerScrape)
		}

		perScrape := got.cpuSeconds / got.scrapes
		b.ReportMetric(float64(n), "instances")
		b.ReportMetric(100*got.cpuSeconds/got.wall.Seconds(), "cpu-%core")
		b.ReportMetric(100*base.cpuSeconds/base.wall.Seconds(), "baseline-cpu-%core")
		b.ReportMetric(100*floor.cpuSeconds/interval.Seconds(), "floor-cpu-%core")
		b.ReportMetric(perScrape/floor.cpuSeconds, "x-floor")
		b.ReportMetric((got.cpuSeconds-base.cpuSeconds*got.wall.Seconds()/base.wall.Seconds())/got.scrapes/floor.cpuSeconds, "x-floor-over-baseline")
		b.ReportMetric(float64(got.rss)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(base.rss)/(1<<20), "baseline-rss-MiB")
		b.ReportMetric(float64(got.rss-base.rss)/(1<<20)*1000/float64(n), "rss-delta-MiB/1000")
		b.ReportMetric(float64(got.rssMax)/(1<<20), "rss-max-MiB")
		b.ReportMetric(float64(got.rssMax-base.rss)/(1<<20)*1000/float64(n), "rss-max-delta-MiB/1000")
		b.ReportMetric(got.readsPerScrape, "reads/scrape")
		b.ReportMetric(floor.metricReads+float64(floor.discoveryReads), "floor-reads/pass")
		b.ReportMetric(float64(fdLimit), "fd-limit")
	}
}

type collectorFigures struct {
	cpuSeconds     float64 // over wall
	wall           time.Duration
	scrapes        float64
	rss            int64 // median of one sample a second over the window
	rssMax         int64 // the largest of those samples
	readsPerScrape float64
}

// measureCollector runs the binary until it reports want instances, lets two scrapes pass,
// then measures its CPU over window, which starts and ends halfway between scrapes so that it
// holds window/interval scrapes exactly.
func measureCollector(b *testing.B, bin string, want int, window time.Duration) collectorFigures {
	b.Helper()
	telemetry := e2e.FreeEndpoint(b)
	configs := []string{e2e.WriteConfig(b, collectorConfig)}
	// OTELCOL_VIRT_SCALE_PPROF=<file>: a CPU profile of the collector over the measured window
	// (of the run with instances), through the distribution's pprof extension.
	profile, pprofAt := os.Getenv("OTELCOL_VIRT_SCALE_PPROF"), ""
	if profile != "" && want > 0 {
		pprofAt = e2e.FreeEndpoint(b)
		configs = append(configs, "yaml:extensions::pprof::endpoint: "+pprofAt, "yaml:service::extensions: [pprof]")
	}
	col := e2e.StartCollector(b, e2e.Options{
		Binary:            bin,
		Configs:           configs,
		TelemetryEndpoint: telemetry,
	})
	ready := time.Now()
	defer func() {
		if err := col.Stop(); err != nil {
			b.Errorf("collector exit: %v\n%s", err, col.Output())
		}
	}()
	self := func() e2e.Metrics {
		m, err := e2e.ScrapeMetrics(telemetry)
		if err != nil {
			b.Fatalf("collector telemetry: %v", err)
		}
		return m
	}
	reads := func(m e2e.Metrics) float64 { return m["otelcol_wasm_runtime_scrape_file_reads_total"] }
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m := self()
		if _, scraped := m["otelcol_wasm_runtime_scrape_instances"]; scraped && int(m["otelcol_wasm_runtime_scrape_instances"]) == want {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the collector never reported %d instances (last: %v)\n%s", want, m["otelcol_wasm_runtime_scrape_instances"], col.Output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The scrape controller scrapes at initial_delay (1s) after start, then every interval:
	// the window starts halfway between two scrapes, two or more scrapes in.
	next := ready.Add(time.Second + 2*interval + interval/2)
	for next.Before(time.Now()) {
		next = next.Add(interval)
	}
	time.Sleep(time.Until(next))

	cpu0, err := e2e.CPUSeconds(col.Pid())
	if err != nil {
		b.Fatal(err)
	}
	reads0, t0 := reads(self()), time.Now()
	if pprofAt != "" {
		go func() {
			if err := e2e.SaveCPUProfile(pprofAt, window, profile); err != nil {
				b.Error(err)
			}
		}()
	}
	// RSS moves with the garbage collector's cycle: sampled every second over the window, its
	// median is the figure and its largest sample is reported beside it.
	var rss []int64
	for end := t0.Add(window); time.Now().Before(end); time.Sleep(min(time.Second, time.Until(end))) {
		if st, err := e2e.ReadProcStats(col.Pid()); err == nil {
			rss = append(rss, st.RSSBytes)
		}
	}
	cpu1, err := e2e.CPUSeconds(col.Pid())
	if err != nil {
		b.Fatal(err)
	}
	reads1, t1 := reads(self()), time.Now()
	st, err := e2e.ReadProcStats(col.Pid())
	if err != nil {
		b.Fatal(err)
	}
	rss = append(rss, st.RSSBytes)
	slices.Sort(rss)
	scrapes := float64(window / interval)
	return collectorFigures{
		cpuSeconds:     cpu1 - cpu0,
		wall:           t1.Sub(t0),
		scrapes:        scrapes,
		rss:            rss[len(rss)/2],
		rssMax:         rss[len(rss)-1],
		readsPerScrape: (reads1 - reads0) / scrapes,
	}
}

type floorFigures struct {
	cpuSeconds float64 // per pass
	// metricReads are what the receiver counts in file_reads, per pass on average;
	// discoveryReads the listing of /proc, every stat file and each instance's cgroup.procs.
	metricReads    float64
	discoveryReads int
}

// measureFloor reads, with every file kept open and re-read by one pread at offset 0, what a
// steady-state scrape reads: the /proc listing and every process's stat (discovery), then per
// instance its cgroup's usage files and its process's stat and descriptor count (the /proc
// listing cannot be pread: it is opened, listed and closed; the fd directory is held open and
// its size read by fstat). The CPU is this thread's, averaged over passes.
func measureFloor(b *testing.B, l cgroup.Layout, groups []*cgrouptest.Group, pids []int) floorFigures {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var files, fdDirs []int
	var dirs []string
	open := func(p string) {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatalf("floor: %v", err)
		}
		files = append(files, fd)
	}
	defer func() {
		for _, fd := range append(files, fdDirs...) {
			_ = unix.Close(fd)
		}
	}()
	dirs = append(dirs, "/proc")
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			if fd, err := unix.Open("/proc/"+e.Name()+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				files = append(files, fd)
			}
		}
	}
	discovery := len(files) + 1
	var refresh []int
	for i, g := range groups {
		for _, p := range floorFiles(l, g) {
			open(p)
		}
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/fd", pids[i]), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatalf("floor: %v", err)
		}
		fdDirs = append(fdDirs, fd)
		for _, p := range refreshFiles(pids[i]) {
			if fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				refresh = append(refresh, fd)
			}
		}
	}
	defer func() {
		for _, fd := range refresh {
			_ = unix.Close(fd)
		}
	}()
	// cgroup.procs is the inventory's membership read, not a metric read: the collector's
	// file_reads counter leaves it out, so the comparison does too.
	steady := len(files) + len(dirs) + len(fdDirs) - discovery - len(groups)

	buf := make([]byte, 64<<10)
	pass := func(i int) {
		for _, fd := range files {
			_, _ = unix.Pread(fd, buf, 0)
		}
		for _, d := range dirs {
			fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			for {
				n, err := unix.Getdents(fd, buf)
				if n <= 0 || err != nil {
					break
				}
			}
			_ = unix.Close(fd)
		}
		// A process's descriptors are counted from its fd directory held open: on procfs its
		// size is the count (Linux 6.2+, fs/proc/fd.c proc_fd_getattr), one fstat.
		var st unix.Stat_t
		for _, fd := range fdDirs {
			_ = unix.Fstat(fd, &st)
		}
		if i%refreshEvery == 0 {
			for _, fd := range refresh {
				_, _ = unix.Pread(fd, buf, 0)
			}
		}
	}
	pass(1) // warm the dentries as the collector's earlier scrapes did
	const passes = 10 * refreshEvery
	before := threadCPU(b)
	for i := range passes {
		pass(i)
	}
	metric := float64(steady) + float64(len(refresh))/float64(refreshEvery)
	return floorFigures{cpuSeconds: (threadCPU(b) - before) / float64(passes), metricReads: metric, discoveryReads: discovery + len(groups)}
}

// floorFiles are the cgroup and /proc files the receiver reads for an instance at every scrape
// at default settings (pinned by TestReadBudget in the receiver), the fd listing excluded, and
// its process's stat, which discovery reads anyway.
func floorFiles(l cgroup.Layout, g *cgrouptest.Group) []string {
	if l.Mode == cgroup.ModeV2 {
		dir := filepath.Join(l.Unified, g.Paths[""])
		var out []string
		for _, f := range []string{"cgroup.procs", "cpu.stat", "memory.current", "memory.stat", "memory.events", "pids.current", "io.stat"} {
			out = append(out, filepath.Join(dir, f))
		}
		return out
	}
	in := func(ctrl string, files ...string) []string {
		var out []string
		for _, f := range files {
			out = append(out, filepath.Join(l.V1[ctrl], g.Paths[ctrl], f))
		}
		return out
	}
	var out []string
	out = append(out, in("cpu", "cgroup.procs", "cpu.stat")...) // cpu.stat: the instance has a quota
	out = append(out, in("cpuacct", "cpuacct.usage", "cpuacct.usage_user", "cpuacct.usage_sys")...)
	out = append(out, in("memory", "memory.usage_in_bytes", "memory.stat", "memory.oom_control")...)
	out = append(out, in("pids", "pids.current")...)
	out = append(out, in("blkio", "blkio.throttle.io_service_bytes_recursive")...)
	return out
}

// refreshEvery is how many scrapes pass between two reads of an instance's process limits: the
// receiver serves them from cache for a minute (fdLimitRefresh), six intervals.
const refreshEvery = int(time.Minute / interval)

// refreshFiles are what the receiver re-reads once a minute per instance: its process's limits
// (procs.go: fdLimitOf). Its cgroup's limit files are read once and then only after a write to
// one of them (limitwatch.go), and its cpuset is the root's (the test cgroups have none).
func refreshFiles(pid int) []string {
	return []string{fmt.Sprintf("/proc/%d/limits", pid)}
}

func threadCPU(b *testing.B) float64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// waitExec waits until every instance process has exec'd the sleeper (its comm is the
// sleeper's), so that the collector's first walk sees all of them.
func waitExec(b *testing.B, pids []int) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, pid := range pids {
		for {
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if err == nil && strings.TrimSpace(string(comm)) == sleeperName {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("instance process %d did not start (%v)", pid, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// raiseFileLimit raises the descriptor limit to want where this process may (the collector
// inherits it: its open-file cache holds a quarter of it), else to the hard limit, and returns
// the limit in force.
func raiseFileLimit(b *testing.B, want uint64) uint64 {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur >= want {
		return lim.Cur
	}
	raised := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
		return want
	}
	lim.Cur = lim.Max // no CAP_SYS_RESOURCE: the hard limit is as far as it goes
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	return lim.Cur
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatalf("%v (coreutils sleep is needed)", err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
