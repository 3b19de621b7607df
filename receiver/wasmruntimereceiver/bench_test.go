package wasmruntimereceiver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/stretchr/testify/assert"
)

// Benchmarks of a scrape over generated fixture roots (a v2 node with N runwasi pods, each a
// shim in containerd's cgroup and a youki container init in the container's cgroup, as
// fixture_scenarios_test.go's runwasi scenario lays them out, plus 50 unrelated processes) and over real processes, each next to a
// floor that replays exactly the file operations the scrape made (open, read, close with the
// same raw reader) and nothing else: no parsing, matching or pdata. The README records the
// figures; run them with:
//
//	go test ./receiver/wasmruntimereceiver -run '^$' -bench 'Scrape|Floor' -benchmem -count 6

var (
	benchRootsMu sync.Mutex
	benchRoots   = map[int]string{}
)

// benchRoot writes (once per test binary) a v2 root with n wasm instances.
func benchRoot(b *testing.B, n int) string {
	benchRootsMu.Lock()
	defer benchRootsMu.Unlock()
	if d, ok := benchRoots[n]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("wasm-runtime-bench-%d-", n))
	if err != nil {
		b.Fatal(err)
	}
	root := fixtureRoot{mode: "v2", cgroups: map[string]string{}}
	for i := 0; i < 50; i++ {
		root.procs = append(root.procs, fixtureProc{pid: 100 + i, ppid: 1, comm: "sshd", args: []string{"sshd"}, cgroup: "0::/system.slice/ssh.service\n", startTicks: 10})
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%064x", i+1)
		scope := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + fmt.Sprintf("%08x_0c3e_4f1e_9a7b_5a1f3f8f2c11", i) + ".slice/cri-containerd-" + id + ".scope"
		shim := []string{shimWasmtime, "-namespace", "k8s.io", "-id", id}
		root.procs = append(root.procs,
			fixtureProc{pid: 20000 + i, ppid: 1, comm: "containerd-shim", exe: shimWasmtime, args: shim, cgroup: "0::/system.slice/containerd.service\n", startTicks: 990, rssPages: 500},
			fixtureProc{pid: 10000 + i, ppid: 20000 + i, comm: "youki:[2:INIT]", exe: shimWasmtime, args: shim, cgroup: "0::" + scope + "\n",
				startTicks: 1000, utime: 10, stime: 5, threads: 4, rssPages: 1000})
		for k, v := range v2Files(scope, "50000 100000", "134217728", "100") {
			root.cgroups[k] = v
		}
	}
	root.write(b, dir)
	benchRoots[n] = dir
	return dir
}

func benchScraper(b *testing.B, root string, tweak func(*Config)) *scraperImpl {
	cfg := testConfig()
	cfg.RootPath = root
	if tweak != nil {
		tweak(cfg)
	}
	s := newTestScraper(b, cfg)
	scrapeOnce(b, s) // first scrape reads identity (cmdline, exe, cgroup, limits) once
	scrapeOnce(b, s)
	return s
}

// traceScrape records the file operations of one steady-state scrape, the inventory's walk
// included (in production the receiver's scrape is what walks the host at each interval).
func traceScrape(b testing.TB, s *scraperImpl) []linuxfs.TraceOp {
	var ops []linuxfs.TraceOp
	s.inv.SetTrace(&ops)
	s.r.Trace = &ops
	scrapeOnce(b, s)
	s.inv.SetTrace(nil)
	s.r.Trace = nil
	return ops
}

func reportPerInstance(b *testing.B, s *scraperImpl, n int, ops []linuxfs.TraceOp) {
	b.ReportMetric(float64(len(ops))/float64(n), "reads/instance")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/instance")
}

func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		root := benchRoot(b, n)
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s := benchScraper(b, root, nil)
			benchLoop(b, s, n)
		})
		// The same without the open-file cache: every read is open, read, close.
		b.Run(fmt.Sprintf("instances=%d/reopen", n), func(b *testing.B) {
			s := benchScraper(b, root, func(c *Config) { c.MaxOpenFiles = 0 })
			benchLoop(b, s, n)
		})
	}
}

func benchLoop(b *testing.B, s *scraperImpl, n int) {
	ops := traceScrape(b, s)
	if got := len(s.inv.Current().Instances); got != n {
		b.Fatalf("%d instances discovered, want %d", got, n)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scrapeFresh(s); err != nil {
			b.Fatal(err)
		}
	}
	reportPerInstance(b, s, n, ops)
}

// BenchmarkFloor replays the scrape's file operations only: with open, read and close for
// each file ("reopen"), and with the files kept open and re-read by pread ("pread"), the
// strategy of the receiver's default open-file cache.
func BenchmarkFloor(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		root := benchRoot(b, n)
		for _, cached := range []bool{true, false} {
			name := fmt.Sprintf("instances=%d/pread", n)
			if !cached {
				name = fmt.Sprintf("instances=%d/reopen", n)
			}
			b.Run(name, func(b *testing.B) {
				s := benchScraper(b, root, nil)
				ops := traceScrape(b, s)
				r := linuxfs.New(0)
				if cached {
					r.MaxOpen = 1 << 20
				}
				b.Cleanup(r.CloseAll)
				b.ReportAllocs()
				for b.Loop() {
					replay(r, ops)
				}
				reportPerInstance(b, s, n, ops)
			})
		}
	}
}

func replay(r *linuxfs.Reader, ops []linuxfs.TraceOp) {
	var pids []int
	for _, op := range ops {
		switch op.Kind {
		case 'r':
			_, _ = r.ReadCached(op.Path)
		case 'c':
			_, _ = r.CountDir(op.Path)
		case 'f':
			_, _ = r.CountFDs(op.Path)
		case 'l':
			pids, _ = r.ListNumeric(op.Path, pids[:0])
		case 'k':
			_, _ = r.ReadlinkInto(op.Path)
		case 's':
			_ = r.ScanLines(op.Path, func([]byte) error { return nil })
		}
	}
}

// Real processes: n sleeps matched by a user-defined runtime (process-tree instances), read
// from this host's /proc and cgroups.
func startSleepers(b *testing.B, n int) {
	cmds := make([]*exec.Cmd, 0, n)
	for i := 0; i < n; i++ {
		cmd := exec.Command("sleep", "3600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	b.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
}

func sleeperConfig(cfg *Config) {
	cfg.Runtimes = []catalog.Matcher{{Name: "sleeper", Kind: catalog.KindWasm, Comm: "^sleep$", Cmdline: "^sleep 3600$"}}
	cfg.Include = Filter{Runtimes: []string{"sleeper"}}
}

func BenchmarkScrapeRealProcesses(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			startSleepers(b, n)
			s := benchScraper(b, "", sleeperConfig)
			ops := traceScrape(b, s)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := scrapeFresh(s); err != nil {
					b.Fatal(err)
				}
			}
			reportPerInstance(b, s, n, ops)
		})
	}
}

func BenchmarkFloorRealProcesses(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			startSleepers(b, n)
			s := benchScraper(b, "", sleeperConfig)
			ops := traceScrape(b, s)
			r := linuxfs.New(1 << 20)
			b.Cleanup(r.CloseAll)
			b.ReportAllocs()
			for b.Loop() {
				replay(r, ops)
			}
			reportPerInstance(b, s, n, ops)
		})
	}
}

// TestMain removes the generated benchmark roots, which outlive single benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchRoots {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// connRoot writes a host with n process-grouped Wasm instances in one network namespace whose
// TCP table holds sockets entries, each instance owning sockets/n of them.
func connRoot(b testing.TB, n, sockets int) string {
	dir := b.TempDir()
	root := fixtureRoot{mode: "v2", cgroups: map[string]string{}}
	var tcp strings.Builder
	tcp.WriteString(tcpHeader)
	for s := 0; s < sockets; s++ {
		fmt.Fprintf(&tcp, "%4d: 0100007F:%04X 0100007F:D494 01 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000059434107 20 0 0 10 -1\n", s, 1024+s%60000, 100000+s)
	}
	for i := 0; i < n; i++ {
		var fds []string
		for s := i; s < sockets; s += n {
			fds = append(fds, fmt.Sprintf("socket:[%d]", 100000+s))
		}
		root.procs = append(root.procs, fixtureProc{pid: 10000 + i, ppid: 1, comm: "wasmtime", exe: "/usr/local/bin/wasmtime",
			args: []string{"wasmtime", "run", "app.wasm"}, cgroup: "0::/user.slice\n", startTicks: 1000, fds: fds, netTCP: tcp.String()})
	}
	root.write(b, dir)
	return dir
}

// BenchmarkConnections counts the TCP sockets of 1,000 instances in one namespace whose table
// holds 10,000 sockets, beside its floor: one pass over the namespace's table (read once per
// namespace, not once per instance) plus one readlink per descriptor of the instances' processes,
// which no kernel interface spares (ss -p reads /proc/<pid>/fd the same way; sock_diag gives
// inodes, not their owners). The README reports count / (table floor + descriptor floor).
//
//	go test ./receiver/wasmruntimereceiver -run '^$' -bench Connections -benchmem -count 6
func BenchmarkConnections(b *testing.B) {
	const n, sockets = 1000, 10000
	root := connRoot(b, n, sockets)
	b.Run("count", func(b *testing.B) {
		s := benchScraper(b, root, func(c *Config) { c.Metrics.SetEnabled("wasm_runtime.connection.count", true) })
		snap := s.inv.Current()
		var kept []int
		for i := range snap.Instances {
			kept = append(kept, i)
		}
		if len(kept) != n {
			b.Fatalf("%d instances, want %d", len(kept), n)
		}
		b.ReportAllocs()
		for b.Loop() {
			s.netns.begin()
			s.countConnections(snap, kept)
		}
		total := 0
		for _, c := range s.netns.counts {
			for _, v := range c {
				total += int(v)
			}
		}
		if total != sockets {
			b.Fatalf("counted %d sockets, want %d", total, sockets)
		}
	})
	b.Run("table-floor", func(b *testing.B) {
		r := linuxfs.New(0)
		table := filepath.Join(root, "proc", "10000", "net", "tcp")
		b.ReportAllocs()
		for b.Loop() {
			_ = r.ScanLines(table, func([]byte) error { return nil })
		}
	})
	b.Run("descriptor-floor", func(b *testing.B) {
		r := linuxfs.New(0)
		var dirs []string
		for i := 0; i < n; i++ {
			dirs = append(dirs, filepath.Join(root, "proc", strconv.Itoa(10000+i), "fd"))
		}
		var fds []int
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range dirs {
				fds, _ = r.ListNumeric(d, fds[:0])
				for _, fd := range fds {
					_, _ = r.ReadlinkInto(d + "/" + strconv.Itoa(fd))
				}
			}
		}
	})
}

// Connection counting reads each network namespace's TCP tables once per scrape, however many
// instances share it.
func TestConnectionTablesReadOncePerNamespace(t *testing.T) {
	root := connRoot(t, 50, 500)
	cfg := testConfig()
	cfg.RootPath = root
	cfg.Metrics.SetEnabled("wasm_runtime.connection.count", true)
	s := newTestScraper(t, cfg)
	scrapeOnce(t, s)
	tables := 0
	for _, op := range traceScrape(t, s) {
		if strings.HasSuffix(op.Path, "/net/tcp") || strings.HasSuffix(op.Path, "/net/tcp6") {
			tables++
		}
	}
	assert.Equal(t, 2, tables, "tcp and tcp6 of the one namespace, for 50 instances")
	md := scrapeOnce(t, s)
	total := 0.0
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		for _, p := range points(md.ResourceMetrics().At(i), "wasm_runtime.connection.count") {
			total += p.value
		}
	}
	assert.Equal(t, 500.0, total, "every socket counted once, for the instance that owns it")
}
