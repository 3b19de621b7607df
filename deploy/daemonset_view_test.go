package deploy

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// TestAgentSeesOtherUsersInstancesAsTheDaemonSet runs the agent as the DaemonSet runs it, on
// this machine: in its own mount namespace with the host's /proc and /sys/fs/cgroup bind-mounted
// read-only under a root_path, as uid 0 holding only the capabilities the manifest adds, with
// no_new_privs. A Wasm instance (the demo module under wazero) runs as another user. With the
// manifest's capabilities the receiver must discover it (by its executable, which needs the
// ptrace read check) and count its descriptors (an owner-only directory); with none, it must not
// see it. This is the security context and the mounts of the manifest at work with the real
// receiver and kernel.
func TestAgentSeesOtherUsersInstancesAsTheDaemonSet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: end-to-end test with the collector")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for mount namespaces and other users' processes")
	}
	for _, tool := range []string{"unshare", "setpriv", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux)", tool)
		}
	}
	wazero := e2e.Tool(t, "wazero")
	bin := collectorBinary(t)
	ds := buildOverlay(t, "edge").daemonSets[0]
	caps := ds.Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Add

	// The instance, owned by another user; the module is world-readable.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the other user must reach the files
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	module := filepath.Join(dir, "app.wasm")
	build := exec.Command("go", "build", "-o", module, "./"+composeDir+"/app")
	build.Dir = repoPath()
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo module: %v\n%s", err, out)
	}
	wazeroCopy := filepath.Join(dir, "wazero")
	if data, err := os.ReadFile(wazero); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(wazeroCopy, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(module, 0o644); err != nil {
		t.Fatal(err)
	}
	app := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", wazeroCopy, "run", module, "-interval=200ms")
	app.Dir = "/"
	app.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Process.Kill(); _ = app.Wait() })
	pid := app.Process.Pid
	// Wait until the process runs wazero as the other user (setpriv has exec'd).
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "wazero" && strings.Contains(string(status), "Uid:\t65534") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wazero instance did not start as uid 65534 (comm %q)", comm)
		}
		time.Sleep(20 * time.Millisecond)
	}

	t.Run("with the manifest's capabilities", func(t *testing.T) {
		metrics := runAgentAsDaemonSet(t, bin, caps, pid, true, daemonSetOptions{})
		if !strings.Contains(metrics, "wasm_runtime_file_descriptor_count{") {
			t.Errorf("the wazero instance has no descriptor count:\n%s", metrics)
		}
	})
	t.Run("without capabilities", func(t *testing.T) {
		runAgentAsDaemonSet(t, bin, nil, pid, false, daemonSetOptions{})
	})
}

// runAgentAsDaemonSet starts the edge agent configuration through a wrapper that reproduces
// the DaemonSet's mounts and security context, and returns the exporter's lines for pid once the
// instance shows (want) or after several scrapes without it (!want).
// daemonSetOptions vary the pod's environment.
type daemonSetOptions struct {
	// cgroupProcs are cgroup.procs files the agent joins before it starts (its pod's cgroup).
	cgroupProcs []string
	// privateCgroupNS gives the agent its own cgroup namespace, as pods on cgroup v2 nodes get.
	privateCgroupNS bool
	// until is an extra substring the instance's lines must contain before the wait ends.
	until string
}

func runAgentAsDaemonSet(t *testing.T, bin string, caps []corev1.Capability, pid int, want bool, opts daemonSetOptions) string {
	t.Helper()
	dir := t.TempDir()
	hostfs := filepath.Join(dir, "hostfs")
	bounding := "-all"
	for _, c := range caps {
		bounding += ",+" + strings.ToLower(string(c))
	}
	wrapper := filepath.Join(dir, "otelcol-virt-as-daemonset")
	var prelude strings.Builder
	for _, procs := range opts.cgroupProcs {
		fmt.Fprintf(&prelude, "echo $$ > %s\n", procs)
	}
	unshare := "unshare --mount --propagation private"
	if opts.privateCgroupNS {
		unshare += " --cgroup"
	}
	script := fmt.Sprintf(`#!/bin/sh
# hostPath /proc and /sys/fs/cgroup, read-only, under root_path; uid 0 with the added
# capabilities only; allowPrivilegeEscalation: false (no_new_privs).
set -e
%[4]sexec %[5]s /bin/sh -ec '
mkdir -p %[1]s/proc %[1]s/sys/fs/cgroup
mount --bind /proc %[1]s/proc
mount -o remount,bind,ro %[1]s/proc
mount --rbind /sys/fs/cgroup %[1]s/sys/fs/cgroup
mount -o remount,bind,ro %[1]s/sys/fs/cgroup
exec setpriv --reuid=0 --regid=0 --clear-groups --inh-caps=-all --ambient-caps=-all --bounding-set=%[2]s --no-new-privs %[3]s "$@"
' sh "$@"
`, hostfs, bounding, bin, prelude.String(), unshare)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	exporter := e2e.FreeEndpoint(t)
	e2e.StartCollector(t, e2e.Options{
		Binary: wrapper,
		Configs: []string{
			repoPath(k8sDir, "overlays", "edge", "agent.yaml"),
			// wazero is a library: declare its CLI, by executable (the ptrace-guarded link).
			"yaml:extensions::instance_inventory::runtimes: [{name: wazero, kind: wasm, exe: '/wazero$'}]",
		},
		Set: []string{
			"extensions::health_check::endpoint=" + e2e.FreeEndpoint(t),
			"extensions::edge_profile::storage_directory=" + filepath.Join(dir, "state"),
			"receivers::otlp::protocols::grpc::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(t),
			"extensions::instance_inventory::root_path=" + hostfs,
			"receivers::wasm_runtime::collection_interval=1s",
			"exporters::prometheus::endpoint=" + exporter,
			"exporters::otlp_http/gateway::endpoint=http://" + e2e.FreeEndpoint(t),
		},
		Env: map[string]string{"K8S_POD_IP": "127.0.0.1", "K8S_NODE_NAME": "node-under-test"},
	})
	needle := `process_pid="` + strconv.Itoa(pid) + `"`
	deadline := time.Now().Add(8 * time.Second)
	var lines []string
	for time.Now().Before(deadline) {
		lines = lines[:0]
		resp, err := http.Get("http://" + exporter + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, l := range strings.Split(string(body), "\n") {
				if strings.Contains(l, needle) {
					lines = append(lines, l)
				}
			}
		}
		if len(lines) > 0 && strings.Contains(strings.Join(lines, "\n"), opts.until) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	found := strings.Join(lines, "\n")
	switch {
	case want && len(lines) == 0:
		t.Fatalf("with capabilities %v the agent did not discover the wazero instance (pid %d) of another user", caps, pid)
	case !want && len(lines) > 0:
		t.Fatalf("with capabilities %v the agent saw the other user's instance; the capabilities are not needed:\n%s", caps, found)
	}
	if want && !strings.Contains(found, `wasm_runtime_runtime="wazero"`) {
		t.Errorf("instance not attributed to wazero:\n%s", found)
	}
	return found
}

// TestAgentReadsInstanceCgroups gives a wazero instance its own cgroup with a 128 MiB memory
// limit and checks that the agent, run as the DaemonSet runs it, reports that limit: with the
// host's cgroup namespace (Compose's `cgroup: host`), and in a private cgroup namespace of its
// own, as pods get on cgroup v2 nodes.
func TestAgentReadsInstanceCgroups(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: end-to-end test with the collector")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups and namespaces")
	}
	for _, tool := range []string{"unshare", "setpriv", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux)", tool)
		}
	}
	wazero := e2e.Tool(t, "wazero")
	bin := collectorBinary(t)
	caps := buildOverlay(t, "edge").daemonSets[0].Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Add

	module := filepath.Join(t.TempDir(), "app.wasm")
	build := exec.Command("go", "build", "-o", module, "./"+composeDir+"/app")
	build.Dir = repoPath()
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo module: %v\n%s", err, out)
	}
	const limit = 128 << 20
	// Both the instance and the agent sit where the kubelet's systemd driver puts containers,
	// so that the agent's namespace root is several levels deep, as in a real pod, and the
	// instance's container id and pod uid come from its resolved path.
	const (
		appPodUID = "0d1c1b3e-6a7d-4f0e-9c1b-2f3a4b5c6d7e"
		appCID    = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	)
	appProcs := nestCgroup(t, testCgroup(t, fmt.Sprintf("otelcol-virt-test-app-%d", os.Getpid()), 0), kubeContainer(appPodUID, appCID), limit)
	app := exec.Command("sh", "-ec", `for f in "$@"; do echo $$ > "$f"; done; exec `+wazero+` run `+module+` -interval=200ms`, "sh")
	app.Args = append(app.Args, appProcs...)
	app.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Process.Kill(); _ = app.Wait() })
	pid := app.Process.Pid

	reportedLimit := func(lines string) float64 {
		for _, l := range strings.Split(lines, "\n") {
			if strings.HasPrefix(l, "wasm_runtime_memory_limit_bytes{") {
				v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
				return v
			}
		}
		return 0
	}
	const until = "wasm_runtime_memory_limit_bytes{"

	identified := func(t *testing.T, lines string) {
		t.Helper()
		for _, label := range []string{`container_id="` + appCID + `"`, `k8s_pod_uid="` + appPodUID + `"`} {
			if !strings.Contains(lines, label) {
				t.Errorf("the instance's lines lack %s:\n%s", label, lines)
			}
		}
	}
	t.Run("host cgroup namespace", func(t *testing.T) {
		lines := runAgentAsDaemonSet(t, bin, caps, pid, true, daemonSetOptions{until: until})
		if got := reportedLimit(lines); got != limit {
			t.Errorf("memory limit of the instance's cgroup reported as %v, want %d:\n%s", got, limit, lines)
		}
		identified(t, lines)
	})
	t.Run("private cgroup namespace", func(t *testing.T) {
		agentProcs := nestCgroup(t, testCgroup(t, fmt.Sprintf("otelcol-virt-test-agent-%d", os.Getpid()), 0),
			kubeContainer("7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11", strings.Repeat("ab", 32)), 0)
		lines := runAgentAsDaemonSet(t, bin, caps, pid, true, daemonSetOptions{
			cgroupProcs: agentProcs, privateCgroupNS: true, until: until,
		})
		identified(t, lines)
		if got := reportedLimit(lines); got != limit {
			t.Errorf("memory limit of the instance's cgroup reported as %v, want %d:\n%s", got, limit, lines)
		}
	})
}

// testCgroup creates a cgroup in every hierarchy the receiver reads (the cgroup v1 controllers
// and the unified tree), with a memory limit when limit > 0, and returns their cgroup.procs
// files. The cgroups are removed when the test ends.
func testCgroup(t *testing.T, name string, limit int64) []string {
	t.Helper()
	var dirs []string
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dirs = []string{"/sys/fs/cgroup"} // cgroup v2 only
	} else {
		for _, c := range []string{"cpu", "cpuacct", "memory", "pids", "unified"} {
			if real, err := filepath.EvalSymlinks("/sys/fs/cgroup/" + c); err == nil && !slices.Contains(dirs, real) {
				dirs = append(dirs, real)
			}
		}
	}
	if len(dirs) == 0 {
		t.Skip("no cgroup hierarchy to create a test cgroup in")
	}
	var procs []string
	for _, d := range dirs {
		cg := filepath.Join(d, name)
		if err := os.Mkdir(cg, 0o755); err != nil {
			t.Skipf("cannot create a cgroup: %v", err)
		}
		t.Cleanup(func() {
			// The processes are killed by cleanups registered later, which run first.
			for i := 0; i < 50; i++ {
				if err := os.Remove(cg); err == nil || os.IsNotExist(err) {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("could not remove cgroup %s", cg)
		})
		if limit > 0 {
			for _, f := range []string{"memory.max", "memory.limit_in_bytes"} {
				if _, err := os.Stat(filepath.Join(cg, f)); err == nil {
					if err := os.WriteFile(filepath.Join(cg, f), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
						t.Fatalf("setting %s: %v", f, err)
					}
				}
			}
		}
		procs = append(procs, filepath.Join(cg, "cgroup.procs"))
	}
	return procs
}

// kubeContainer is the path of a container's cgroup below its pod's with the kubelet's systemd
// driver and containerd (best-effort QoS).
func kubeContainer(podUID, containerID string) string {
	pod := "kubepods-besteffort-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice"
	return "kubepods.slice/kubepods-besteffort.slice/" + pod + "/cri-containerd-" + containerID + ".scope"
}

// nestCgroup creates rel below the directory of each cgroup.procs file in procs, with a memory
// limit on the innermost cgroup when limit > 0, and returns the cgroup.procs files of the
// innermost ones. On cgroup v2 the levels in between delegate the memory controller so that
// the innermost one can be limited. The cgroups are removed, innermost first, when the test
// ends.
func nestCgroup(t *testing.T, procs []string, rel string, limit int64) []string {
	t.Helper()
	var out []string
	for _, p := range procs {
		dir := filepath.Dir(p)
		var made []string
		for _, elem := range strings.Split(rel, "/") {
			if _, err := os.Stat(filepath.Join(dir, "cgroup.controllers")); err == nil {
				_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory"), 0o644)
			}
			dir = filepath.Join(dir, elem)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Skipf("cannot create a cgroup: %v", err)
			}
			made = append(made, dir)
		}
		t.Cleanup(func() {
			for i := len(made) - 1; i >= 0; i-- {
				for try := 0; try < 50; try++ {
					if err := os.Remove(made[i]); err == nil || os.IsNotExist(err) {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
		if limit > 0 {
			for _, f := range []string{"memory.max", "memory.limit_in_bytes"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					if err := os.WriteFile(filepath.Join(dir, f), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
						t.Fatalf("setting %s: %v", f, err)
					}
				}
			}
		}
		out = append(out, filepath.Join(dir, "cgroup.procs"))
	}
	return out
}
