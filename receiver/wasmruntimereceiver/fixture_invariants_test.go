package wasmruntimereceiver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// TestFixtureInvariants holds every fixture root, captured or reconstructed, to what the kernel
// guarantees, so that no fixture shows a state a real host cannot be in:
//   - CFS periods and throttling move only while the cgroup has a quota, and the throttled time
//     is no more than the CPU time used;
//   - memory usage is no more than the cgroup's own limit, anon no more than usage, and on v1
//     every byte value is a whole number of pages;
//   - pids.current counts at least the threads of the processes whose tasks are in the cgroup;
//   - a process's anonymous resident memory fits in the usage of the cgroups its threads are in.
//     Not its whole RSS: a file page is charged to the cgroup that first read it, not to every
//     process that maps it (Documentation/admin-guide/cgroup-v2.rst, "Memory Ownership"), and
//     the captured roots show a binary's pages charged elsewhere.
func TestFixtureInvariants(t *testing.T) {
	roots, err := filepath.Glob(filepath.Join("testdata", "roots", "*"))
	if err != nil || len(roots) == 0 {
		t.Fatalf("no fixture roots: %v", err)
	}
	for _, root := range roots {
		t.Run(filepath.Base(root), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(root, "ORIGIN")); err != nil {
				t.Errorf("no ORIGIN: every fixture says what it was captured from or reconstructed after")
			}
			cg := filepath.Join(root, "sys", "fs", "cgroup")
			checkCgroupFiles(t, cg)
			checkProcessesAgainstCgroups(t, root, cg)
		})
	}
}

func readNum(t *testing.T, path string) (uint64, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := cgroup.ParseUint(b)
	if err != nil {
		return 0, false
	}
	return v, true
}

func checkCgroupFiles(t *testing.T, cgRoot string) {
	_ = filepath.Walk(cgRoot, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(cgRoot, p)
		v1 := !exists(filepath.Join(cgRoot, "cgroup.controllers")) && !strings.HasPrefix(rel, "unified")
		// CPU: throttling only with a quota, throttled time within usage.
		if b, err := os.ReadFile(filepath.Join(p, "cpu.stat")); err == nil {
			cs, err := cgroup.ParseCPUStat(b)
			if err != nil {
				t.Errorf("%s/cpu.stat: %v", rel, err)
			} else {
				quota := hasQuota(p)
				if (cs.NrPeriods > 0 || cs.NrThrottled > 0 || cs.ThrottledUsec > 0) && !quota {
					t.Errorf("%s: throttling without a quota", rel)
				}
				if cs.NrThrottled > cs.NrPeriods {
					t.Errorf("%s: %d throttled periods of %d", rel, cs.NrThrottled, cs.NrPeriods)
				}
				usage := cs.UsageUsec
				if usage == 0 {
					if u, ok := readNum(t, filepath.Join(p, "cpuacct.usage")); ok {
						usage = u / 1000
					} else if b, err := os.ReadFile(filepath.Join(p, "cpuacct.stat")); err == nil {
						if st, err := cgroup.ParseCPUAcctStat(b); err == nil {
							usage = (st.User + st.System) * 10000
						}
					}
				}
				if cs.ThrottledUsec > usage && usage > 0 {
					t.Errorf("%s: throttled %d us > used %d us", rel, cs.ThrottledUsec, usage)
				}
			}
		}
		// Memory: usage within the cgroup's own limit, anon within usage, pages on v1.
		usageFile, limitFile := "memory.current", "memory.max"
		if v1 {
			usageFile, limitFile = "memory.usage_in_bytes", "memory.limit_in_bytes"
		}
		usage, hasUsage := readNum(t, filepath.Join(p, usageFile))
		if b, err := os.ReadFile(filepath.Join(p, limitFile)); err == nil && hasUsage {
			if l, err := cgroup.ParseLimit(b); err == nil && !l.Unlimited && usage > l.Value {
				t.Errorf("%s: memory usage %d above its limit %d", rel, usage, l.Value)
			}
		}
		if b, err := os.ReadFile(filepath.Join(p, "memory.stat")); err == nil && hasUsage {
			if ms, err := cgroup.ParseMemoryStat(b); err == nil && ms.Anon > usage {
				t.Errorf("%s: anon %d above usage %d", rel, ms.Anon, usage)
			}
		}
		if v1 {
			for _, f := range []string{"memory.usage_in_bytes", "memory.limit_in_bytes", "memory.max_usage_in_bytes"} {
				if v, ok := readNum(t, filepath.Join(p, f)); ok && v%4096 != 0 {
					t.Errorf("%s/%s = %d is not a whole number of pages", rel, f, v)
				}
			}
		}
		for _, f := range []string{"memory.peak", "memory.max_usage_in_bytes"} {
			if peak, ok := readNum(t, filepath.Join(p, f)); ok && hasUsage && peak < usage {
				t.Errorf("%s: %s %d below the usage %d", rel, f, peak, usage)
			}
		}
		return nil
	})
}

func hasQuota(dir string) bool {
	if b, err := os.ReadFile(filepath.Join(dir, "cpu.max")); err == nil {
		return !strings.HasPrefix(string(b), "max")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us")); err == nil {
		return strings.TrimSpace(string(b)) != "-1"
	}
	return false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// checkProcessesAgainstCgroups charges every task of every process to its cgroups and compares
// with pids.current and the memory usage there.
func checkProcessesAgainstCgroups(t *testing.T, root, cgRoot string) {
	threads := map[string]int64{} // cgroup dir (pids hierarchy) -> threads charged
	procDirs, _ := filepath.Glob(filepath.Join(root, "proc", "[0-9]*"))
	for _, pd := range procDirs {
		statB, err := os.ReadFile(filepath.Join(pd, "stat"))
		if err != nil {
			continue
		}
		st, _, err := proc.ParseStat(statB)
		if err != nil {
			continue
		}
		leaderCG, err := os.ReadFile(filepath.Join(pd, "cgroup"))
		if err != nil {
			continue
		}
		paths := []cgroup.Paths{}
		leader, err := cgroup.ParsePaths(leaderCG)
		if err != nil {
			continue
		}
		// Threads listed under task/ with a cgroup of their own are charged there; the rest
		// to the leader's.
		rest := st.NumThreads
		tasks, _ := filepath.Glob(filepath.Join(pd, "task", "[0-9]*"))
		for _, td := range tasks {
			if filepath.Base(td) == filepath.Base(pd) {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(td, "cgroup")); err == nil {
				if tp, err := cgroup.ParsePaths(b); err == nil {
					paths = append(paths, tp)
					threads[pidsDir(cgRoot, tp)]++
					rest--
				}
			}
		}
		threads[pidsDir(cgRoot, leader)] += rest
		paths = append(paths, leader)
		// Resident memory fits in the usage of the cgroups the process's threads are in.
		var usage uint64
		seen := map[string]bool{}
		known := false
		for _, p := range paths {
			d, f := memoryDir(cgRoot, p)
			if d == "" || seen[d] {
				continue
			}
			seen[d] = true
			if u, ok := readNum(t, filepath.Join(d, f)); ok {
				usage += u
				known = true
			}
		}
		if anon, ok := rssAnon(pd); known && ok && anon > usage {
			t.Errorf("pid %d: anonymous RSS %d above the usage %d of its cgroups", st.PID, anon, usage)
		}
	}
	for dir, n := range threads {
		if dir == "" {
			continue
		}
		// pids.current counts the cgroup and its descendants; compare where a file exists.
		if cur, ok := readNum(t, filepath.Join(dir, "pids.current")); ok {
			var below int64
			for d2, n2 := range threads {
				if d2 != dir && strings.HasPrefix(d2, dir+"/") {
					below += n2
				}
			}
			if int64(cur) < n+below {
				t.Errorf("%s: pids.current %d below the %d threads in it", dir, cur, n+below)
			}
		}
	}
}

// pidsDir is the directory of the pids controller for a process's cgroups in a fixture root.
func pidsDir(cgRoot string, p cgroup.Paths) string {
	if p.V1[cgroup.Pids] != "" {
		return filepath.Join(cgRoot, "pids", p.V1[cgroup.Pids])
	}
	if p.Unified != "" && exists(filepath.Join(cgRoot, "cgroup.controllers")) {
		return filepath.Join(cgRoot, p.Unified)
	}
	return ""
}

func memoryDir(cgRoot string, p cgroup.Paths) (dir, usageFile string) {
	if p.V1[cgroup.Memory] != "" && p.V1[cgroup.Memory] != "/" {
		return filepath.Join(cgRoot, "memory", p.V1[cgroup.Memory]), "memory.usage_in_bytes"
	}
	if p.Unified != "" && p.Unified != "/" && exists(filepath.Join(cgRoot, "cgroup.controllers")) {
		return filepath.Join(cgRoot, p.Unified), "memory.current"
	}
	return "", ""
}

// rssAnon is the RssAnon line of /proc/<pid>/status, in bytes.
func rssAnon(procDir string) (uint64, bool) {
	b, err := os.ReadFile(filepath.Join(procDir, "status"))
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseUint(f[0], 10, 64)
				return n * 1024, err == nil
			}
		}
	}
	return 0, false
}
