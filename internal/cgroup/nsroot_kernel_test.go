package cgroup_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// TestNamespaceRootOnThisKernel puts an "agent" process in a cgroup of its own and a cgroup
// namespace of its own (unshare --cgroup, as a pod on a cgroup v2 node gets), and an "app" in
// another cgroup with a memory limit. What the agent reads in /proc/<app>/cgroup and in its
// mountinfo is the kernel's, and the namespace root found from outside must map the app's
// paths, in every hierarchy, to the app's real cgroups.
func TestNamespaceRootOnThisKernel(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	agent := cgrouptest.New(t, cgrouptest.Limits{})
	const limit = 96 << 20
	app := cgrouptest.New(t, cgrouptest.Limits{MemoryBytes: limit})
	appCmd := app.Command("sleep", "60")
	if err := appCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = appCmd.Process.Kill(); _ = appCmd.Wait() })
	waitComm(t, appCmd.Process.Pid, "sleep")

	appPID := strconv.Itoa(appCmd.Process.Pid)
	agentCmd := agent.Command("unshare", "--cgroup", "sh", "-c",
		`cat /proc/self/cgroup; echo ---; cat /proc/`+appPID+`/cgroup; echo ---; cat /proc/self/mountinfo; echo ---; exec sleep 60`)
	out, err := agentCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agentCmd.Process.Kill(); _ = agentCmd.Wait() })
	var sections [3]strings.Builder
	sc := bufio.NewScanner(out)
	for i := 0; i < 3 && sc.Scan(); {
		if sc.Text() == "---" {
			i++
			continue
		}
		sections[i].WriteString(sc.Text() + "\n")
	}
	if sc.Err() != nil || sections[2].Len() == 0 {
		t.Fatalf("agent output incomplete: %v\n%s", sc.Err(), sections[0].String()+sections[1].String())
	}
	self := byHierarchy(t, sections[0].String())
	appView := byHierarchy(t, sections[1].String())
	mountRoots := map[string]string{} // mount point -> root field, as the agent reads them
	for _, l := range strings.Split(sections[2].String(), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			mountRoots[f[4]] = f[3]
		}
	}
	t.Logf("agent's view of the app:\n%s", sections[1].String())

	l := app.Layout
	mounts := map[string]string{"": l.Unified} // controller -> mount
	for c, d := range l.V1 {
		mounts[c] = d
	}
	checked := 0
	for ctrl, want := range app.Paths {
		mount := mounts[ctrl]
		if mount == "" {
			continue
		}
		view := appView[ctrl]
		if cgroup.UpLevels(view) == 0 {
			t.Errorf("%q: the app's path as the namespaced agent reads it, %q, does not climb: the namespace is not private", ctrl, view)
		}
		real, _ := filepath.EvalSymlinks(mount)
		depth := -1
		if root, ok := mountRoots[real]; ok {
			d, ok := cgroup.MountRootDepth(root)
			if !ok {
				t.Errorf("%q: mountinfo root %q is not a chain of ..", ctrl, root)
			}
			depth = d
		}
		for _, hint := range []int{depth, -1} {
			root, err := cgroup.FindNamespaceRoot(mount, agentCmd.Process.Pid, self[ctrl], hint)
			if err != nil {
				t.Errorf("%q: depth %d: %v", ctrl, hint, err)
				continue
			}
			if want := agent.Paths[ctrl]; root != want {
				t.Errorf("%q: depth %d: namespace root %q, want the agent's cgroup %q", ctrl, hint, root, want)
			}
			got, ok := cgroup.JoinNamespacePath(root, view)
			if !ok || got != want {
				t.Errorf("%q: %q resolved to %q, %v; want %q", ctrl, view, got, ok, want)
			}
		}
		checked++
		if ctrl == "memory" || (ctrl == "" && l.Mode == cgroup.ModeV2) {
			root, _ := cgroup.FindNamespaceRoot(mount, agentCmd.Process.Pid, self[ctrl], depth)
			p, _ := cgroup.JoinNamespacePath(root, view)
			name := "memory.max"
			if ctrl == "memory" {
				name = "memory.limit_in_bytes"
			}
			b, err := os.ReadFile(filepath.Join(mount, p, name))
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(limit) {
				t.Errorf("%s of the resolved cgroup %s: %q, %v; want %d", name, p, b, err, limit)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no hierarchy checked")
	}
}

// byHierarchy maps each controller of /proc/<pid>/cgroup ("" for the unified line) to its path.
func byHierarchy(t *testing.T, data string) map[string]string {
	t.Helper()
	lines, err := proc.ParseCgroup([]byte(data))
	if err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	out := map[string]string{}
	for _, l := range lines {
		if len(l.Controllers) == 0 {
			out[""] = l.Path
		}
		for _, c := range l.Controllers {
			out[c] = l.Path
		}
	}
	return out
}

func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if strings.TrimSpace(string(b)) == comm {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never became %s (comm %q)", pid, comm, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
