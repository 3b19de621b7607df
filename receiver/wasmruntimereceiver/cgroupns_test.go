package wasmruntimereceiver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
)

// nsView is the path the kernel prints in /proc/<pid>/cgroup for a cgroup at host path p to a
// reader whose cgroup namespace root is at host path root (kernfs_path_from_node: up to the
// common ancestor, then down).
func nsView(p, root string) string {
	split := func(s string) []string {
		var out []string
		for _, e := range strings.Split(s, "/") {
			if e != "" {
				out = append(out, e)
			}
		}
		return out
	}
	pe, re := split(p), split(root)
	k := 0
	for k < len(pe) && k < len(re) && pe[k] == re[k] {
		k++
	}
	parts := make([]string, 0, len(re)-k+len(pe)-k)
	for range len(re) - k {
		parts = append(parts, "..")
	}
	parts = append(parts, pe[k:]...)
	return "/" + strings.Join(parts, "/")
}

func TestNSView(t *testing.T) {
	for _, c := range [][3]string{
		{"/a/b/c", "/a/b/c", "/"},
		{"/a/b/c/d", "/a/b/c", "/d"},
		{"/a/x", "/a/b/c", "/../../x"},
		{"/", "/a/b", "/../.."},
		{"/init.scope", "/a", "/../init.scope"},
	} {
		assert.Equal(t, c[2], nsView(c[0], c[1]), "nsView(%q, %q)", c[0], c[1])
	}
}

// collectorPID is the collector's own process in the namespaced fixture roots.
const collectorPID = 950

// namespacedRoots writes a scenario twice with the collector added as a process of its own pod:
// as the host's cgroup namespace reads it, and as the collector reads it from a private cgroup
// namespace rooted at its own cgroup (every /proc/<pid>/cgroup rewritten relative to that
// root). The cgroup tree is the host's in both. withMountinfo adds the collector's mountinfo
// (the root field gives the namespace root's depth); without it the tree is searched level by
// level. self is whether <root>/proc/self names the collector.
func namespacedRoots(t *testing.T, f fixtureRoot, collectorCgroup string, withMountinfo, self bool) (host, ns string) {
	t.Helper()
	f.procs = append(append([]fixtureProc(nil), f.procs...), fixtureProc{
		pid: collectorPID, ppid: 1, comm: "otelcol-virt", exe: "/otelcol-virt", args: []string{"/otelcol-virt", "--config=/conf/agent.yaml"},
		cgroup: defaultCgroup(f.mode, collectorCgroup), startTicks: 4000, rssPages: 9000,
	})
	host, ns = t.TempDir(), t.TempDir()
	f.write(t, host)
	f.write(t, ns)
	for _, dir := range []string{host, ns} {
		if self {
			require.NoError(t, os.Symlink(strconv.Itoa(collectorPID), filepath.Join(dir, "proc", "self")))
		}
	}
	procs := append([]fixtureProc{{pid: 1, cgroup: defaultCgroup(f.mode, "/init.scope")}, {pid: 2, cgroup: defaultCgroup(f.mode, "/")}}, f.procs...)
	view := func(cgroupFile string) string {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(cgroupFile), "\n") {
			parts := strings.SplitN(line, ":", 3)
			fmt.Fprintf(&b, "%s:%s:%s\n", parts[0], parts[1], nsView(parts[2], collectorCgroup))
		}
		return b.String()
	}
	for _, p := range procs {
		pd := filepath.Join(ns, "proc", strconv.Itoa(p.pid))
		writeFile(t, filepath.Join(pd, "cgroup"), view(p.cgroup))
		if p.noStat || p.rawStat != "" {
			continue
		}
		writeFile(t, filepath.Join(pd, "task", strconv.Itoa(p.pid), "cgroup"), view(p.cgroup))
		for _, tk := range p.tasks {
			if tk.cgroup != "" {
				writeFile(t, filepath.Join(pd, "task", strconv.Itoa(tk.tid), "cgroup"), view(tk.cgroup))
			}
		}
	}
	if withMountinfo {
		depth := len(strings.Split(strings.Trim(collectorCgroup, "/"), "/"))
		cg, err := filepath.EvalSymlinks(filepath.Join(ns, "sys", "fs", "cgroup"))
		require.NoError(t, err)
		writeFile(t, filepath.Join(ns, "proc", strconv.Itoa(collectorPID), "mountinfo"),
			"23 1 0:21 / / rw,relatime - overlay overlay rw\n"+
				"41 23 0:38 "+strings.Repeat("/..", depth)+" "+cg+" ro,relatime - cgroup2 cgroup2 rw\n")
	}
	return host, ns
}

func scrapeDir(t *testing.T, dir string, logger *zap.Logger, tel *componenttest.Telemetry) (pmetric.Metrics, *scraperImpl) {
	t.Helper()
	set := receivertest.NewNopSettings(Type)
	if tel != nil {
		set.TelemetrySettings = tel.NewTelemetrySettings()
	}
	if logger != nil {
		set.Logger = logger
	}
	return scrapeDirWith(t, dir, &set, nil)
}

// sameInstances requires every instance of want to be in got with the same resource and the
// same values (uptimes aside: they follow the clock).
func sameInstances(t *testing.T, want, got pmetric.Metrics) int {
	t.Helper()
	n := 0
	for i := 0; i < want.ResourceMetrics().Len(); i++ {
		w := want.ResourceMetrics().At(i)
		pid, ok := w.Resource().Attributes().Get("process.pid")
		if !ok {
			continue // the receiver's own scrape figures
		}
		g, ok := findResource(got, "process.pid", pid.AsString())
		if !assert.True(t, ok, "instance of pid %s missing in the namespace", pid.AsString()) {
			continue
		}
		n++
		assert.Equal(t, w.Resource().Attributes().AsRaw(), g.Resource().Attributes().AsRaw(), "pid %s", pid.AsString())
		sms := w.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				name := ms.At(k).Name()
				if strings.HasSuffix(name, ".uptime") {
					continue
				}
				assert.ElementsMatch(t, points(w, name), points(g, name), "pid %s metric %s", pid.AsString(), name)
			}
		}
	}
	return n
}

func scenario(t *testing.T, name string) fixtureRoot {
	t.Helper()
	for _, f := range scenarios() {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no scenario %s", name)
	return fixtureRoot{}
}

// TestFixtureInCgroupNamespace reads the same host twice, once from the host's cgroup namespace
// and once from a DaemonSet pod's own, and requires the same instances with the same figures:
// cgroup paths, container ids and pod uids, limits and usage.
func TestFixtureInCgroupNamespace(t *testing.T) {
	const otherCID = "1111111111111111111111111111111111111111111111111111111111111111"
	for _, c := range []struct {
		scenario, collector string
		mountinfo           bool
	}{
		{"v2-kubepods-systemd-runwasi", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice/cri-containerd-" + otherCID + ".scope", true},
		{"v2-kubepods-systemd-runwasi", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice/cri-containerd-" + otherCID + ".scope", false},
		{"v1-kubepods-cgroupfs-spin", "/kubepods/besteffort/pod0d1c1b3e-6a7d-4f0e-9c1b-2f3a4b5c6d7e/" + otherCID, false},
		{"v1-kata-overhead", "/kubepods/besteffort/pod0d1c1b3e-6a7d-4f0e-9c1b-2f3a4b5c6d7e/" + otherCID, false},
		{"hybrid-libvirt-qemu", "/system.slice/otelcol-virt.service", false},
	} {
		t.Run(fmt.Sprintf("%s mountinfo=%v", c.scenario, c.mountinfo), func(t *testing.T) {
			host, ns := namespacedRoots(t, scenario(t, c.scenario), c.collector, c.mountinfo, true)
			want, hs := scrapeDir(t, host, nil, nil)
			for _, r := range hs.inv.Namespace().Roots {
				assert.Equal(t, "/", r, "host namespace: paths used as read")
			}
			core, logs := observer.New(zap.WarnLevel)
			got, s := scrapeDir(t, ns, zap.New(core), nil)
			nsInfo := s.inv.Namespace()
			require.NoError(t, nsInfo.Err)
			assert.NotEmpty(t, nsInfo.Roots)
			for mount, r := range nsInfo.Roots {
				assert.Equal(t, c.collector, r, "namespace root in %s", mount)
			}
			if n := sameInstances(t, want, got); n == 0 {
				t.Fatal("no instance compared")
			}
			assert.Zero(t, s.inv.Errors()[linuxfs.CgroupNamespace])
			assert.Zero(t, logs.FilterMessageSnippet("cgroup namespace").Len(), "warnings: %v", logs.All())
		})
	}
}

// TestFixtureCgroupNamespaceUnresolved: in a private cgroup namespace where the collector
// cannot find itself (no <root>/proc/self: the host's /proc without hostPID is not what it
// reads), climbing paths are not guessed. The instance keeps its process figures, the
// failures are counted under cgroup_namespace, and the warning is logged once.
func TestFixtureCgroupNamespaceUnresolved(t *testing.T) {
	collector := "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podx.slice/cri-containerd-y.scope"
	_, ns := namespacedRoots(t, scenario(t, "v2-kubepods-systemd-runwasi"), collector, false, false)
	core, logs := observer.New(zap.WarnLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	md, s := scrapeDir(t, ns, zap.New(core), tel)
	require.Error(t, s.inv.Namespace().Err)
	for i := 0; i < 2; i++ {
		md, _ = scrapeFresh(s)
	}
	// Without its cgroup the container's Wasm process is still found (its path, as read,
	// names the container) and reported with its process figures.
	rm := mustResource(t, md, "901")
	assert.Equal(t, "process", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, cid, resAttr(rm, "container.id"), "identity from the path as read")
	_, ok := value(rm, "container.cpu.time")
	assert.False(t, ok, "no cgroup read at a guessed path")
	assert.Greater(t, mustValue(t, rm, "wasm_runtime.cpu.time", "cpu.mode", "user"), 0.0)
	assert.Positive(t, s.inv.Errors()[linuxfs.CgroupNamespace])
	assert.Positive(t, telemetrySum(t, tel, "otelcol_wasm_runtime_scrape_errors")["cgroup_namespace"])
	assert.Equal(t, 1, logs.FilterMessageSnippet("cgroup namespace").Len(), "one warning: %v", logs.All())

	// Once the collector can find itself the search, retried after 5 minutes, succeeds and the
	// processes' cgroups, re-read at their next refresh, are mapped.
	require.NoError(t, os.Symlink(strconv.Itoa(collectorPID), filepath.Join(ns, "proc", "self")))
	scrapeOnce(t, s)
	require.Error(t, s.inv.Namespace().Err, "not retried before 5 minutes")
	_, err := s.inv.Acquire(time.Now().Add(6*time.Minute), 0)
	require.NoError(t, err)
	require.NoError(t, s.inv.Namespace().Err)
	md = scrapeOnce(t, s)
	rm = mustResource(t, md, "901")
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, cid, resAttr(rm, "container.id"))
	assert.Equal(t, 134217728.0, mustValue(t, rm, "wasm_runtime.memory.limit"), "the pod's limit, read at the mapped path")
	assert.Equal(t, 1, logs.FilterMessageSnippet("cgroup namespace").Len(), "still one warning")
}

func findResourceWithout(md pmetric.Metrics, key string) (pmetric.ResourceMetrics, bool) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		if _, ok := rm.Resource().Attributes().Get(key); !ok {
			return rm, true
		}
	}
	return pmetric.ResourceMetrics{}, false
}

// nsHelperEnv makes TestCgroupNamespaceHelper run: it names the pid of the instance to scrape.
const nsHelperEnv = "WASM_RUNTIME_TEST_CGROUPNS_PID"

// TestScrapeInPrivateCgroupNamespace runs the scrape in a process of its own, in a cgroup of
// its own and a cgroup namespace of its own (unshare --cgroup: what a pod gets on a cgroup v2
// node), with the host's /proc and cgroup mounts, while a Wasm guest under wazero runs in
// another cgroup with CPU, memory and pids limits. The namespaced scrape must find the guest's
// cgroup and report its limits, PSI and throttling, with the cgroup path the host uses.
func TestScrapeInPrivateCgroupNamespace(t *testing.T) {
	needIntegration(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	app := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 10000, CPUPeriodUsec: 100000, MemoryBytes: 192 << 20, Pids: 64})
	guest := startGuest(t, app, nil, "cpuloop")
	// With hostPID, and with a pid namespace of its own reading the host's /proc (there
	// cgroup.procs numbers processes in the scraper's namespace, not the host's).
	t.Run("host pid namespace", func(t *testing.T) { scrapeInCgroupNamespace(t, app, guest) })
	t.Run("own pid namespace", func(t *testing.T) { scrapeInCgroupNamespace(t, app, guest, "--pid", "--fork") })
}

func scrapeInCgroupNamespace(t *testing.T, app *cgrouptest.Group, guest *exec.Cmd, unshare ...string) {
	agent := cgrouptest.New(t, cgrouptest.Limits{})
	args := append(append([]string{"--cgroup"}, unshare...), os.Args[0], "-test.run=^TestCgroupNamespaceHelper$", "-test.count=1", "-test.v")
	helper := agent.Command("unshare", args...)
	helper.Env = append(os.Environ(), nsHelperEnv+"="+strconv.Itoa(guest.Process.Pid))
	out, err := helper.CombinedOutput()
	results := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "RESULT "); ok && k == "" {
			name, val, _ := strings.Cut(v, "=")
			results[name] = val
		}
	}
	require.NoError(t, err, "namespaced scrape:\n%s", out)
	t.Logf("namespaced scrape:\n%s", out)

	assert.Equal(t, strconv.FormatBool(len(unshare) > 0), results["own_pid_namespace"], "pid namespace of the scraper")
	assert.Positive(t, mustAtoi(t, results["up_levels"]), "the guest's cgroup as the namespaced scraper reads it must climb (%s)", results["view"])
	hostPath := app.Paths[""]
	if app.Layout.Mode == "v1" {
		hostPath = app.Paths["cpu"]
	}
	assert.Equal(t, hostPath, results["cgroup_path"], "the host's path of the guest's cgroup")
	assert.Equal(t, "cgroup", results["grouping"])
	assert.Positive(t, mustAtoi(t, results["depth_hints"]), "mountinfo gave no namespace root depth matching the root found")
	assert.Equal(t, strconv.Itoa(192<<20), results["memory_limit"])
	assert.Equal(t, "0.1", results["cpu_limit"])
	assert.Equal(t, "64", results["pids_limit"])
	assert.Equal(t, "0", results["cgroup_namespace_errors"])
	// In each hierarchy the scraper has a cgroup of its own in, that cgroup is its namespace root.
	checked := 0
	for _, mr := range strings.Fields(results["roots"]) {
		mount, root, _ := strings.Cut(mr, "=")
		for ctrl, own := range agent.Paths {
			if d := app.Layout.V1[ctrl]; (ctrl != "" && d == mount) || (ctrl == "" && mount == app.Layout.Unified) {
				assert.Equal(t, own, root, "namespace root in %s", mount)
				checked++
			}
		}
	}
	assert.Positive(t, checked, "no namespace root reported: %s", results["roots"])
	if app.Layout.Unified != "" {
		assert.Equal(t, "true", results["psi"], "PSI of the guest's cgroup")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%q", s)
	return n
}

// TestCgroupNamespaceHelper is the scraper side of TestScrapeInPrivateCgroupNamespace, run in
// the private cgroup namespace; it prints what it found as RESULT lines.
func TestCgroupNamespaceHelper(t *testing.T) {
	pidStr := os.Getenv(nsHelperEnv)
	if pidStr == "" {
		t.Skip("helper process: runs only inside the private cgroup namespace TestScrapeInPrivateCgroupNamespace creates")
	}
	pid := mustAtoi(t, pidStr)
	view, err := os.ReadFile("/proc/" + pidStr + "/cgroup")
	require.NoError(t, err)
	ups := 0
	for _, l := range strings.Split(strings.TrimSpace(string(view)), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 {
			ups = max(ups, cgroup.UpLevels(parts[2]))
		}
	}
	hostPID, err := os.Readlink("/proc/self")
	require.NoError(t, err)
	fmt.Printf("RESULT up_levels=%d\nRESULT view=%q\nRESULT own_pid_namespace=%v\n", ups, view, hostPID != strconv.Itoa(os.Getpid()))
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	cfg.Metrics.SetEnabled("wasm_runtime.pressure.stall_time", true)
	s := newTestScraper(t, cfg)
	s.maxAge = 0
	rm := scrapeUntil(t, s, pid, 30*time.Second, "limits of the guest's cgroup", func(rm pmetric.ResourceMetrics) bool {
		_, mem := value(rm, "wasm_runtime.memory.limit")
		_, th := value(rm, "wasm_runtime.cpu.throttled_periods")
		return mem && th
	})
	str := func(name string) string {
		v, ok := value(rm, name)
		if !ok {
			return "absent"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	_, psi := value(rm, "wasm_runtime.pressure.stall_time", "wasm_runtime.pressure.resource", "cpu", "wasm_runtime.pressure.scope", "some")
	nsInfo := s.inv.Namespace()
	var roots []string
	for mount, r := range nsInfo.Roots {
		roots = append(roots, mount+"="+r)
	}
	// Roots found at the depth the kernel's mountinfo gave, searching that level only.
	fmt.Printf("RESULT depth_hints=%d\n", nsInfo.DepthHints)
	fmt.Printf("RESULT cgroup_path=%s\nRESULT grouping=%s\nRESULT memory_limit=%s\nRESULT cpu_limit=%s\nRESULT pids_limit=%s\nRESULT psi=%v\nRESULT roots=%s\nRESULT cgroup_namespace_errors=%d\n",
		resAttr(rm, "wasm_runtime.cgroup.path"), resAttr(rm, "wasm_runtime.instance.grouping"),
		str("wasm_runtime.memory.limit"), str("wasm_runtime.cpu.limit"), str("wasm_runtime.pids.limit"), psi,
		strings.Join(roots, " "), s.inv.Errors()[linuxfs.CgroupNamespace])
}
