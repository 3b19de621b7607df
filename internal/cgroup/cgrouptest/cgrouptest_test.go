package cgrouptest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGroupConfinesAProcess(t *testing.T) {
	g := New(t, Limits{CPUQuotaUsec: 20000, MemoryBytes: 64 << 20, Pids: 50})
	cmd := g.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm")
		if strings.TrimSpace(string(comm)) == "sleep" {
			for ctrl, p := range g.Paths {
				if !strings.Contains(string(b), p) {
					t.Errorf("%s: process not in %s:\n%s", ctrl, p, b)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process never exec'd sleep: %q", comm)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, d := range g.Dirs {
		if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err != nil {
			t.Error(err)
		}
	}
}
