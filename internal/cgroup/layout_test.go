package cgroup

import (
	"os"
	"path/filepath"
	"testing"
)

func touch(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	t.Run("v2", func(t *testing.T) {
		d := t.TempDir()
		touch(t, filepath.Join(d, "cgroup.controllers"), "cpuset cpu io memory pids\n")
		l, err := Detect(d)
		if err != nil || l.Mode != ModeV2 || l.Unified != d || !l.UnifiedControllers["memory"] {
			t.Fatalf("%+v %v", l, err)
		}
		src, ok := l.Controller("memory", nil, "/a/b")
		if !ok || !src.V2 || src.Dir != filepath.Join(d, "a/b") {
			t.Errorf("memory source %+v %v", src, ok)
		}
		if _, ok := l.Controller("hugetlb", nil, "/a"); ok {
			t.Error("controller not enabled at the root reported")
		}
	})
	t.Run("v1 co-mounted", func(t *testing.T) {
		d := t.TempDir()
		touch(t, filepath.Join(d, "cpu,cpuacct", "cgroup.procs"), "")
		touch(t, filepath.Join(d, "memory", "cgroup.procs"), "")
		for _, c := range []string{"cpu", "cpuacct"} {
			if err := os.Symlink("cpu,cpuacct", filepath.Join(d, c)); err != nil {
				t.Fatal(err)
			}
		}
		l, err := Detect(d)
		if err != nil || l.Mode != ModeV1 || l.V1["cpuacct"] != filepath.Join(d, "cpuacct") || l.V1["memory"] == "" || l.V1["pids"] != "" {
			t.Fatalf("%+v %v", l, err)
		}
		src, ok := l.Controller("cpu", map[string]string{"cpu": "/x"}, "/")
		if !ok || src.V2 || src.Dir != filepath.Join(d, "cpu", "x") {
			t.Errorf("cpu source %+v %v", src, ok)
		}
	})
	t.Run("hybrid", func(t *testing.T) {
		d := t.TempDir()
		touch(t, filepath.Join(d, "cpu", "cgroup.procs"), "")
		touch(t, filepath.Join(d, "unified", "cgroup.controllers"), "")
		l, err := Detect(d)
		if err != nil || l.Mode != ModeHybrid || l.Unified != filepath.Join(d, "unified") {
			t.Fatalf("%+v %v", l, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := Detect(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Error("no error for a missing directory")
		}
		if _, err := Detect(t.TempDir()); err == nil {
			t.Error("no error for an empty directory")
		}
	})
	t.Run("this host", func(t *testing.T) {
		l, err := Detect("/sys/fs/cgroup")
		if err != nil {
			t.Skipf("no cgroup filesystem here: %v", err)
		}
		t.Logf("this host: mode %s, v1 %v, unified %q %v", l.Mode, l.V1, l.Unified, l.UnifiedControllers)
		if l.Mode == ModeHybrid && l.Unified == "" {
			t.Error("hybrid without a unified directory")
		}
	})
}
