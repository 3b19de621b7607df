package wasmruntimereceiver

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Fixture roots are host filesystems in miniature (proc/ and sys/fs/cgroup/) that the receiver
// reads through root_path. Those under testdata/roots are of two kinds: captured ones, copied
// from a live runtime on a real kernel by internal/tools/capturefixture (their ORIGIN says what
// ran, where and when), and reconstructed ones, written by `go test -run TestFixtureRoots
// -update` from the scenarios of fixture_scenarios_test.go, whose ORIGIN names the upstream
// source file and commit each process and cgroup layout follows. TestFixtureInvariants holds
// every root, of both kinds, to the kernel's invariants. Benchmarks generate larger roots the
// same way in a temporary directory.

var update = flag.Bool("update", false, "rewrite testdata/roots from the scenarios")

type fixtureProc struct {
	pid, ppid   int
	comm        string
	exe         string
	args        []string
	cgroup      string // content of /proc/<pid>/cgroup
	utime       uint64
	stime       uint64
	threads     int
	rssPages    int64
	startTicks  uint64
	fds         []string // link targets of /proc/<pid>/fd/N
	rawStat     string   // overrides the generated stat line (malformed cases)
	noStat      bool     // listed in /proc but gone (vanished mid-scrape)
	netTCP      string
	noFileLimit string
	netns       string // ns/net link target; the host's when empty
	netDev      string
	// tasks are the process's threads beyond the leader when they sit in other cgroups than
	// the leader (a Kata VMM's vCPU threads on cgroup v1) or need names of their own.
	tasks []fixtureTask
	// cutime and cstime are the CPU ticks of reaped children; minflt and majflt the faults.
	cutime, cstime, minflt, majflt uint64
}

// fixtureTask is one thread of a process (/proc/<pid>/task/<tid>).
type fixtureTask struct {
	tid    int
	comm   string
	cgroup string // the leader's when empty
}

type fixtureRoot struct {
	name    string
	origin  string
	mode    string // v1, v2, hybrid
	procs   []fixtureProc
	cgroups map[string]string // path under sys/fs/cgroup -> content
	// sys holds other files below sys/ (sys/dev/block links are "-> target" values).
	sys map[string]string
	// btime overrides the boot time of proc/stat.
	btime int64
}

const bootTime = 1795811167

func (p fixtureProc) statLine() string {
	if p.rawStat != "" {
		return p.rawStat
	}
	threads := p.threads
	if threads == 0 {
		threads = 1
	}
	// Fields as proc(5) numbers them: pid comm state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue
	// starttime vsize rss ...
	minflt, majflt := p.minflt, p.majflt
	if minflt == 0 && majflt == 0 {
		minflt, majflt = 1500, 3
	}
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 %d 0 %d 0 %d %d %d %d 20 0 %d 0 %d %d %d 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, p.comm, p.ppid, p.pid, p.pid, minflt, majflt, p.utime, p.stime, p.cutime, p.cstime, threads, p.startTicks, 100<<20, p.rssPages)
}

const limitsFile = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            %s                 1048576              files     
Max locked memory         8388608              8388608              bytes     
`

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// write lays the root out under dir.
func (f fixtureRoot) write(tb testing.TB, dir string) {
	tb.Helper()
	btime := int64(bootTime)
	if f.btime != 0 {
		btime = f.btime
	}
	writeFile(tb, filepath.Join(dir, "proc", "stat"), "cpu  1 2 3 4\nbtime "+fmt.Sprint(btime)+"\n")
	// pid 1 and a kernel thread, as on any host.
	procs := append([]fixtureProc{
		{pid: 1, ppid: 0, comm: "systemd", exe: "/usr/lib/systemd/systemd", args: []string{"/sbin/init"}, cgroup: defaultCgroup(f.mode, "/init.scope"), startTicks: 1},
		{pid: 2, ppid: 0, comm: "kthreadd", cgroup: defaultCgroup(f.mode, "/"), startTicks: 1},
	}, f.procs...)
	for _, p := range procs {
		pd := filepath.Join(dir, "proc", fmt.Sprint(p.pid))
		if p.noStat {
			// git keeps no empty directory; the listing only needs the pid to be there
			writeFile(tb, filepath.Join(pd, ".keep"), "")
			continue
		}
		writeFile(tb, filepath.Join(pd, "stat"), p.statLine())
		writeFile(tb, filepath.Join(pd, "comm"), p.comm+"\n")
		writeFile(tb, filepath.Join(pd, "cmdline"), strings.Join(p.args, "\x00")+nullIf(len(p.args) > 0))
		writeFile(tb, filepath.Join(pd, "cgroup"), p.cgroup)
		// The leader's task, and the threads listed separately.
		writeFile(tb, filepath.Join(pd, "task", fmt.Sprint(p.pid), "cgroup"), p.cgroup)
		for _, tk := range p.tasks {
			cg := tk.cgroup
			if cg == "" {
				cg = p.cgroup
			}
			writeFile(tb, filepath.Join(pd, "task", fmt.Sprint(tk.tid), "cgroup"), cg)
			writeFile(tb, filepath.Join(pd, "task", fmt.Sprint(tk.tid), "comm"), tk.comm+"\n")
		}
		nofile := p.noFileLimit
		if nofile == "" {
			nofile = "1024   "
		}
		writeFile(tb, filepath.Join(pd, "limits"), fmt.Sprintf(limitsFile, nofile))
		writeFile(tb, filepath.Join(pd, "status"), fmt.Sprintf("Name:\t%s\nVmRSS:\t%d kB\nRssAnon:\t%d kB\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n", p.comm, p.rssPages*4, p.rssPages*4))
		tcp := p.netTCP
		if tcp == "" {
			tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		}
		writeFile(tb, filepath.Join(pd, "net", "tcp"), tcp)
		writeFile(tb, filepath.Join(pd, "net", "tcp6"), "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
		if err := os.MkdirAll(filepath.Join(pd, "fd"), 0o755); err != nil {
			tb.Fatal(err)
		}
		fds := p.fds
		if fds == nil {
			fds = []string{"/dev/null", "pipe:[1001]", "pipe:[1001]"}
		}
		for i, target := range fds {
			if err := os.Symlink(target, filepath.Join(pd, "fd", fmt.Sprint(i))); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
		netns := p.netns
		if netns == "" {
			netns = "net:[4026531840]"
		}
		if err := os.MkdirAll(filepath.Join(pd, "ns"), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.Symlink(netns, filepath.Join(pd, "ns", "net")); err != nil && !os.IsExist(err) {
			tb.Fatal(err)
		}
		if p.netDev != "" {
			writeFile(tb, filepath.Join(pd, "net", "dev"), p.netDev)
		}
		if p.exe != "" {
			if err := os.Symlink(p.exe, filepath.Join(pd, "exe")); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
	}
	cg := filepath.Join(dir, "sys", "fs", "cgroup")
	switch f.mode {
	case "v2":
		writeFile(tb, filepath.Join(cg, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n")
	case "v1", "hybrid":
		for _, c := range []string{"cpu,cpuacct", "memory", "pids", "blkio"} {
			writeFile(tb, filepath.Join(cg, c, "cgroup.procs"), "1\n")
		}
		for _, c := range []string{"cpu", "cpuacct"} {
			if err := os.Symlink("cpu,cpuacct", filepath.Join(cg, c)); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
		if f.mode == "hybrid" {
			writeFile(tb, filepath.Join(cg, "unified", "cgroup.controllers"), "")
		}
	}
	for p, content := range f.cgroups {
		writeFile(tb, filepath.Join(cg, p), content)
	}
	// cgroup.procs of every non-root cgroup a process has a thread in, as the kernel lists
	// them (on v1 a process whose threads are split is listed in each).
	members := map[string][]string{}
	for _, p := range procs {
		seen := map[string]bool{}
		cgroups := []string{p.cgroup}
		for _, tk := range p.tasks {
			if tk.cgroup != "" {
				cgroups = append(cgroups, tk.cgroup)
			}
		}
		for _, c := range cgroups {
			for _, line := range strings.Split(strings.TrimSpace(c), "\n") {
				parts := strings.SplitN(line, ":", 3)
				if len(parts) != 3 || parts[2] == "/" || strings.HasPrefix(parts[1], "name=") {
					continue
				}
				mount := parts[1]
				if mount == "" && f.mode == "hybrid" {
					mount = "unified"
				}
				d := filepath.Join(mount, parts[2])
				if !seen[d] {
					seen[d] = true
					members[d] = append(members[d], fmt.Sprint(p.pid))
				}
			}
		}
	}
	for d, pids := range members {
		writeFile(tb, filepath.Join(cg, d, "cgroup.procs"), strings.Join(pids, "\n")+"\n")
	}
	for p, content := range f.sys {
		full := filepath.Join(dir, "sys", p)
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.Symlink(target, full); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
			continue
		}
		writeFile(tb, full, content)
	}
	if f.origin != "" {
		writeFile(tb, filepath.Join(dir, "ORIGIN"), f.origin)
	}
}

func nullIf(b bool) string {
	if b {
		return "\x00"
	}
	return ""
}

// defaultCgroup is the /proc/<pid>/cgroup of a process at path on a host of the given mode.
func defaultCgroup(mode, path string) string {
	switch mode {
	case "v2":
		return "0::" + path + "\n"
	case "hybrid":
		return "5:pids:" + path + "\n4:memory:" + path + "\n3:cpu,cpuacct:" + path + "\n2:blkio:" + path + "\n1:name=systemd:" + path + "\n0::" + path + "\n"
	}
	return "5:pids:" + path + "\n4:memory:" + path + "\n3:cpu,cpuacct:" + path + "\n2:blkio:" + path + "\n1:name=systemd:" + path + "\n"
}

// v2Files are the control files of a v2 cgroup with the limits the Wasm isolation study
// recommends, under pressure (formats of Documentation/admin-guide/cgroup-v2.rst).
func v2Files(dir string, cpuMax, memMax, pidsMax string) map[string]string {
	// The kernel counts periods and throttling only while a quota is set.
	cpuStat := "usage_usec 8123456\nuser_usec 7023456\nsystem_usec 1100000\nnr_periods 2001\nnr_throttled 1843\nthrottled_usec 4061728\nnr_bursts 0\nburst_usec 0\n"
	if strings.HasPrefix(cpuMax, "max") {
		cpuStat = "usage_usec 8123456\nuser_usec 7023456\nsystem_usec 1100000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
	}
	return map[string]string{
		dir + "/cpu.stat":        cpuStat,
		dir + "/memory.high":     "max\n",
		dir + "/cpu.max":         cpuMax + "\n",
		dir + "/memory.current":  "121634816\n",
		dir + "/memory.max":      memMax + "\n",
		dir + "/memory.peak":     "134103040\n",
		dir + "/memory.stat":     "anon 113246208\nfile 6291456\nkernel 1708032\ninactive_anon 113238016\nactive_anon 8192\ninactive_file 4194304\nactive_file 2097152\npgfault 60321\npgmajfault 3\n",
		dir + "/memory.events":   "low 0\nhigh 0\nmax 417\noom 3\noom_kill 2\noom_group_kill 0\n",
		dir + "/pids.current":    "12\n",
		dir + "/pids.max":        pidsMax + "\n",
		dir + "/io.stat":         "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n",
		dir + "/cpu.pressure":    "some avg10=61.30 avg60=58.02 avg300=22.71 total=88123456\nfull avg10=60.10 avg60=57.00 avg300=22.00 total=87000000\n",
		dir + "/memory.pressure": "some avg10=0.00 avg60=0.12 avg300=0.03 total=52311\nfull avg10=0.00 avg60=0.10 avg300=0.02 total=40120\n",
		dir + "/io.pressure":     "some avg10=0.00 avg60=0.00 avg300=0.00 total=1200\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=800\n",
	}
}

// v1Files are the control files of one cgroup on co-mounted v1 hierarchies.
func v1Files(path string, quota string, memLimit string, pidsMax string) map[string]string {
	cpuStat := "nr_periods 500\nnr_throttled 120\nthrottled_time 9000000000\nnr_bursts 0\nburst_time 0\n"
	if quota == "-1" {
		cpuStat = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"
	}
	return map[string]string{
		"cpu,cpuacct" + path + "/cpuacct.stat":                        "user 4200\nsystem 800\n",
		"cpu,cpuacct" + path + "/cpuacct.usage":                       "50000000000\n",
		"cpu,cpuacct" + path + "/cpu.stat":                            cpuStat,
		"cpu,cpuacct" + path + "/cpu.cfs_quota_us":                    quota + "\n",
		"cpu,cpuacct" + path + "/cpu.cfs_period_us":                   "100000\n",
		"memory" + path + "/memory.usage_in_bytes":                    "83058688\n",
		"memory" + path + "/memory.limit_in_bytes":                    memLimit + "\n",
		"memory" + path + "/memory.max_usage_in_bytes":                "90001408\n",
		"memory" + path + "/memory.stat":                              "cache 76349440\nrss 2326528\ninactive_file 6643712\ntotal_cache 76349440\ntotal_rss 2326528\ntotal_inactive_file 6643712\ntotal_pgfault 41000\ntotal_pgmajfault 7\nhierarchical_memory_limit " + v1Hierarchical(memLimit) + "\n",
		"memory" + path + "/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
		"pids" + path + "/pids.current":                               "7\n",
		"pids" + path + "/pids.max":                                   pidsMax + "\n",
		"blkio" + path + "/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 1228800\n8:0 Sync 1232896\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 1232896\nTotal 1232896\n",
		"blkio" + path + "/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 300\n8:0 Total 301\nTotal 301\n",
	}
}

// v1Hierarchical is what memory.stat says of a cgroup whose own limit is memLimit and whose
// ancestors set none.
func v1Hierarchical(memLimit string) string {
	if memLimit == "-1" {
		return "9223372036854771712"
	}
	return memLimit
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func rootDir(name string) string { return filepath.Join("testdata", "roots", name) }

// TestFixtureRoots checks that the committed roots are what the scenarios describe, or
// rewrites them with -update.
func TestFixtureRoots(t *testing.T) {
	for _, sc := range scenarios() {
		dir := rootDir(sc.name)
		if *update {
			require := os.RemoveAll(dir)
			if require != nil {
				t.Fatal(require)
			}
			sc.write(t, dir)
			continue
		}
		tmp := t.TempDir()
		sc.write(t, tmp)
		want, got := listTree(t, tmp), listTree(t, dir)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s is stale: run go test -run TestFixtureRoots -update", dir)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + fmt.Sprint(len(b)) + " " + fmt.Sprintf("%x", hash(b))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func hash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
