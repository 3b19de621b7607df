package deploy

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	wazero, err := e2e.ToolPath("wazero")
	if err != nil {
		t.Skip(err)
	}
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
		metrics := runAgentAsDaemonSet(t, bin, caps, pid, true)
		if !strings.Contains(metrics, "process_unix_file_descriptor_count{") {
			t.Errorf("the wazero instance has no descriptor count:\n%s", metrics)
		}
	})
	t.Run("without capabilities", func(t *testing.T) {
		runAgentAsDaemonSet(t, bin, nil, pid, false)
	})
}

// runAgentAsDaemonSet starts the edge agent configuration through a wrapper that reproduces
// the DaemonSet's mounts and security context, and returns the exporter's lines for pid once the
// instance shows (want) or after several scrapes without it (!want).
func runAgentAsDaemonSet(t *testing.T, bin string, caps []corev1.Capability, pid int, want bool) string {
	t.Helper()
	dir := t.TempDir()
	hostfs := filepath.Join(dir, "hostfs")
	bounding := "-all"
	for _, c := range caps {
		bounding += ",+" + strings.ToLower(string(c))
	}
	wrapper := filepath.Join(dir, "otelcol-virt-as-daemonset")
	script := fmt.Sprintf(`#!/bin/sh
# hostPath /proc and /sys/fs/cgroup, read-only, under root_path; uid 0 with the added
# capabilities only; allowPrivilegeEscalation: false (no_new_privs).
exec unshare --mount --propagation private /bin/sh -ec '
mkdir -p %[1]s/proc %[1]s/sys/fs/cgroup
mount --bind /proc %[1]s/proc
mount -o remount,bind,ro %[1]s/proc
mount --rbind /sys/fs/cgroup %[1]s/sys/fs/cgroup
mount -o remount,bind,ro %[1]s/sys/fs/cgroup
exec setpriv --reuid=0 --regid=0 --clear-groups --inh-caps=-all --ambient-caps=-all --bounding-set=%[2]s --no-new-privs %[3]s "$@"
' sh "$@"
`, hostfs, bounding, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	exporter := e2e.FreeEndpoint(t)
	e2e.StartCollector(t, e2e.Options{
		Binary: wrapper,
		Configs: []string{
			repoPath(k8sDir, "overlays", "edge", "agent.yaml"),
			// wazero is a library: declare its CLI, by executable (the ptrace-guarded link).
			"yaml:receivers::wasm_runtime::runtimes: [{name: wazero, kind: wasm, exe: '/wazero$'}]",
		},
		Set: []string{
			"extensions::health_check::endpoint=" + e2e.FreeEndpoint(t),
			"extensions::edge_profile::storage_directory=" + filepath.Join(dir, "state"),
			"receivers::otlp::protocols::grpc::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::otlp::protocols::http::endpoint=" + e2e.FreeEndpoint(t),
			"receivers::wasm_runtime::root_path=" + hostfs,
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
		if len(lines) > 0 {
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
