package wasmruntimereceiver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"golang.org/x/sys/unix"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// vmCapture holds the /proc files of a real KVM guest's VMM captured by internal/vmstats
// (its ORIGIN says how): the benchmark's VMs read exactly what a real qemu shows.
const vmCapture = "../../internal/vmstats/testdata/capture/"

func readCapture(tb testing.TB, rel string) string {
	tb.Helper()
	matches, err := filepath.Glob(vmCapture + rel)
	if err != nil || len(matches) == 0 {
		tb.Fatalf("capture %s: %v", rel, err)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// vmBenchRoot writes a v2 host with n qemu VMs of vcpus vCPUs each, named by debug-threads,
// each with a tap (a /dev/net/tun descriptor whose fdinfo names it) in its own network
// namespace, from the captured files (the VMM's stat line is the fixture's, which the walk
// reads too).
func vmBenchRoot(b *testing.B, n, vcpus int) string {
	dir := b.TempDir()
	netdev := readCapture(b, "net/dev")
	hdr := netdev[:bytes.IndexByte([]byte(netdev), '\n')+1]
	rest := netdev[len(hdr):]
	hdr += rest[:bytes.IndexByte([]byte(rest), '\n')+1]
	var tapLine string
	for _, l := range bytes.Split([]byte(netdev), []byte("\n")) {
		if bytes.Contains(l, []byte("tap0:")) {
			tapLine = string(l) + "\n"
		}
	}
	root := fixtureRoot{mode: "v2", cgroups: map[string]string{}}
	for i := 0; i < n; i++ {
		pid := 20000 + i*10
		scope := fmt.Sprintf(`/machine.slice/machine-qemu\x2d%d\x2dvm%d.scope`, i+1, i)
		p := fixtureProc{pid: pid, ppid: 1, comm: "qemu-system-x86", exe: "/usr/bin/qemu-system-x86_64",
			args:   []string{"/usr/bin/qemu-system-x86_64", "-name", fmt.Sprintf("guest=vm%d,debug-threads=on", i), "-smp", strconv.Itoa(vcpus), "-m", "1024"},
			cgroup: "0::" + scope + "\n", startTicks: 1000, threads: vcpus + 3, rssPages: 50000,
			fds: []string{"/dev/null", "/dev/net/tun"}, netns: fmt.Sprintf("net:[%d]", 4026532000+i), netDev: hdr + tapLine}
		for v := 0; v < vcpus; v++ {
			p.tasks = append(p.tasks, fixtureTask{tid: pid + 1 + v, comm: fmt.Sprintf("CPU %d/KVM", v)})
		}
		root.procs = append(root.procs, p)
		for k, v := range v2Files(scope, "max 100000", "max", "max") {
			root.cgroups[k] = v
		}
	}
	root.write(b, dir)
	io, vstat, sched := readCapture(b, "io"), readCapture(b, "task/*/stat"), readCapture(b, "task/*/schedstat")
	for _, p := range root.procs {
		base := filepath.Join(dir, "proc", strconv.Itoa(p.pid))
		writeFile(b, base+"/io", io)
		writeFile(b, base+"/fdinfo/1", "pos:\t0\nflags:\t0104002\nmnt_id:\t15\nino:\t104\niff:\ttap0\n")
		for _, tk := range p.tasks {
			writeFile(b, filepath.Join(base, "task", strconv.Itoa(tk.tid), "stat"), vstat)
			writeFile(b, filepath.Join(base, "task", strconv.Itoa(tk.tid), "schedstat"), sched)
		}
	}
	return dir
}

// BenchmarkVMCollect reads the per-vCPU figures, guest and VMM time, taps and VMM I/O of 100
// VMs of 4 vCPUs as one scrape does (reads, parsing and recording into the metrics builder),
// and in the same iterations replays exactly the file operations it made with every file
// kept open and re-read by one pread (the floor), and the same reads and parsing without the
// recording (read). Reported: the median of each, read/floor and vm/floor by the wall clock,
// and the same ratios of the medians of the thread's CPU time (cpu-read/floor, cpu-vm/floor).
//
//	go test ./receiver/wasmruntimereceiver -run '^$' -bench VMCollect -benchmem -count 6
func BenchmarkVMCollect(b *testing.B) {
	const n, vcpus = 100, 4
	root := vmBenchRoot(b, n, vcpus)
	s := benchScraper(b, root, nil)
	snap := s.inv.Current()
	var vms []int
	for i := range snap.Instances {
		if isVM(&snap.Instances[i]) {
			vms = append(vms, i)
		}
	}
	if len(vms) != n {
		b.Fatalf("%d VM instances, want %d", len(vms), n)
	}
	measureVMCollect(b, s, snap, vms, vcpus)
}

// measureVMCollect times one scrape's VM collection of the given instances against its floor
// (see BenchmarkVMCollect) and reports the medians and ratios.
func measureVMCollect(b *testing.B, s *scraperImpl, snap *inventory.Snapshot, vms []int, vcpus int) {
	now := time.Now()
	ts := pcommon.NewTimestampFromTime(now)
	collect := func() {
		s.r.BeginPass()
		s.vm.c.BeginScrape()
		for _, i := range vms {
			in := &snap.Instances[i]
			s.recordVMProcess(in, vmmProcess(in), s.stateOf(in.Key), now, ts)
		}
		s.r.EndPass()
	}
	collect()
	for _, i := range vms {
		st := s.states[snap.Instances[i].Key].vm
		if st == nil || st.vm == nil || len(st.stats.VCPUs) != vcpus || len(st.stats.Taps) != 1 || st.stats.IOErr != nil || len(st.stats.Errs) > 0 {
			b.Fatalf("VM %s not fully read: %+v", snap.Instances[i].Key, st)
		}
	}
	var ops []linuxfs.TraceOp
	s.r.Trace = &ops
	collect()
	s.r.Trace = nil
	floorR := linuxfs.New(1 << 20)
	b.Cleanup(floorR.CloseAll)
	replay(floorR, ops)

	// Medians of the per-iteration times: on a shared machine a neighbour's burst lands on one
	// side of a pair and would skew totals.
	// readOnly is the same reads and parsing into vmstats.VMStats, without recording.
	readOnly := func() {
		s.r.BeginPass()
		s.vm.c.BeginScrape()
		for _, i := range vms {
			in := &snap.Instances[i]
			vi := s.states[in.Key].vm
			s.vm.c.CollectWithStat(vi.vm, &vmmProcess(in).Stat, &vi.stats)
		}
		s.r.EndPass()
	}
	// Each phase is timed by the wall clock and by this thread's CPU clock: on a shared machine
	// a neighbour's burst stretches the wall time of whichever phase it lands on, while the
	// thread's CPU time counts only what the phase itself ran (its syscalls included).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wall, cpu [3][]time.Duration // floor, read, vm
	phase := func(k int, f func()) {
		c0, t0 := threadCPU(), time.Now()
		f()
		wall[k], cpu[k] = append(wall[k], time.Since(t0)), append(cpu[k], threadCPU()-c0)
	}
	b.ReportAllocs()
	for b.Loop() {
		phase(0, func() { replay(floorR, ops) })
		phase(1, readOnly)
		phase(2, collect)
		s.mb.Emit() // drop what was recorded, as the scrape's emit does
	}
	floor, read, vm := median(wall[0]), median(wall[1]), median(wall[2])
	b.ReportMetric(float64(floor.Nanoseconds()), "floor-ns/scrape")
	b.ReportMetric(float64(read.Nanoseconds()), "read-ns/scrape")
	b.ReportMetric(float64(vm.Nanoseconds()), "vm-ns/scrape")
	b.ReportMetric(float64(read)/float64(floor), "read/floor")
	b.ReportMetric(float64(vm)/float64(floor), "vm/floor")
	cFloor := median(cpu[0])
	b.ReportMetric(float64(median(cpu[1]))/float64(cFloor), "cpu-read/floor")
	b.ReportMetric(float64(median(cpu[2]))/float64(cFloor), "cpu-vm/floor")
	b.ReportMetric(float64(len(ops)), "reads/scrape")
}

// threadCPU is the CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID, nanoseconds;
// the caller locks its goroutine to the thread).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
