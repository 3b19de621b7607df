package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// procReads are the /proc reads of the wasm_runtime receiver that are guarded per process, with
// the metric or step that needs each.
var procReads = []struct {
	name, why string
	read      func(pid int) error
}{
	{"exe", "runtime discovery (readlink /proc/<pid>/exe)", func(pid int) error {
		_, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return err
	}},
	{"fd-list", "process.unix.file_descriptor.count (list /proc/<pid>/fd)", func(pid int) error {
		_, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		return err
	}},
	{"fd-link", "wasm_runtime.connection.count (readlink /proc/<pid>/fd/N to find sockets)", func(pid int) error {
		_, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid))
		return err
	}},
}

// worldReadable are reads that need no capability; the probe checks them to prove it works.
var worldReadable = []string{"stat", "status", "cmdline", "cgroup", "limits"}

const probeEnv = "OTELCOL_VIRT_DEPLOY_CAP_PROBE"

// TestMain turns the test binary into the capability probe when re-executed by
// TestAgentCapabilities under setpriv.
func TestMain(m *testing.M) {
	if pid := os.Getenv(probeEnv); pid != "" {
		os.Exit(probe(pid))
	}
	os.Exit(m.Run())
}

func probe(pidText string) int {
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	result := map[string]bool{}
	for _, r := range procReads {
		result[r.name] = r.read(pid) == nil
	}
	for _, f := range worldReadable {
		_, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		result[f] = err == nil
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		return 2
	}
	return 0
}

// TestAgentCapabilities checks the DaemonSet's capability set against the kernel: a uid-0
// process holding exactly the capabilities the manifest adds (as the container gets them) can
// make every guarded read of the receiver on processes of another user and on root processes
// with full capabilities; without any one of those capabilities some read fails, so each is
// needed.
func TestAgentCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run processes as other users and drop capabilities")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	c := buildOverlay(t, "edge")
	sc := c.daemonSets[0].Spec.Template.Spec.Containers[0].SecurityContext
	caps := sc.Capabilities.Add
	if len(caps) == 0 {
		t.Fatal("the DaemonSet adds no capability")
	}

	targets := map[string]int{
		"other user":             startTarget(t, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"),
		"root with capabilities": startTarget(t),
	}

	// run probes pid as uid with exactly caps: uid 0 with a bounding set as the container gets
	// them, or a non-root uid with ambient capabilities, as systemd's AmbientCapabilities= gives
	// them to a service user (docs/deployment.md).
	run := func(pid int, caps []corev1.Capability, uid int) map[string]bool {
		t.Helper()
		set := "-all"
		for _, c := range caps {
			set += ",+" + strings.ToLower(string(c))
		}
		ambient := "-all"
		if uid != 0 {
			ambient = set
		}
		id := strconv.Itoa(uid)
		cmd := exec.Command(setpriv, "--reuid="+id, "--regid="+id, "--clear-groups", "--inh-caps="+ambient,
			"--ambient-caps="+ambient, "--bounding-set="+set, "--no-new-privs", os.Args[0])
		cmd.Env = append(os.Environ(), probeEnv+"="+strconv.Itoa(pid))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("probe with %v: %v", caps, err)
		}
		var res map[string]bool
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("probe output %q: %v", out, err)
		}
		for _, f := range worldReadable {
			if !res[f] {
				t.Fatalf("probe could not read /proc/%d/%s, which needs no capability: the probe is broken", pid, f)
			}
		}
		return res
	}

	for name, pid := range targets {
		for _, uid := range []int{0, 65532} {
			got := run(pid, caps, uid)
			for _, r := range procReads {
				if !got[r.name] {
					t.Errorf("%s: as uid %d with %v the agent cannot do %s, needed for %s", name, uid, caps, r.name, r.why)
				}
			}
		}
	}
	// The Compose sidecar runs as the app's uid with no capability: that is enough for the
	// app's own processes.
	sameUser := startTarget(t, setpriv, "--reuid=65532", "--regid=65532", "--clear-groups")
	got := run(sameUser, nil, 65532)
	for _, r := range procReads {
		if !got[r.name] {
			t.Errorf("same uid, no capability: cannot do %s (%s); the Compose sidecar would need capabilities", r.name, r.why)
		}
	}

	// Each capability is needed for at least one read of some target.
	for _, dropped := range caps {
		rest := slices.DeleteFunc(slices.Clone(caps), func(c corev1.Capability) bool { return c == dropped })
		needed := false
		for _, pid := range targets {
			got := run(pid, rest, 0)
			for _, r := range procReads {
				needed = needed || !got[r.name]
			}
		}
		if !needed {
			t.Errorf("capability %s is not needed by any read of the receiver: drop it", dropped)
		}
	}
}

// startTarget starts a sleeping process (through setpriv when args are given) and returns its
// pid once it runs the sleep.
func startTarget(t *testing.T, setprivArgs ...string) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("needs sleep")
	}
	var cmd *exec.Cmd
	if len(setprivArgs) > 1 {
		cmd = exec.Command(setprivArgs[0], append(setprivArgs[1:], sleep, "120")...)
	} else {
		cmd = exec.Command(sleep, "120")
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if filepath.Base(exe) == "sleep" {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("target %d never became sleep", pid)
	return 0
}
