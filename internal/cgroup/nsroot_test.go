package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpLevelsAndMountRootDepth(t *testing.T) {
	for _, c := range []struct {
		p     string
		up    int
		depth int
		ok    bool
	}{
		{"/", 0, 0, true},
		{"/..", 1, 1, true},
		{"/../..", 2, 2, true},
		{"/../../..", 3, 3, true},
		{"/../../kubepods.slice/x.scope", 2, 0, false},
		{"/system.slice", 0, 0, false},
		{"/..foo", 0, 0, false},
		{"", 0, 0, false},
		{"../..", 2, 0, false},
	} {
		if got := UpLevels(c.p); got != c.up {
			t.Errorf("UpLevels(%q) = %d, want %d", c.p, got, c.up)
		}
		d, ok := MountRootDepth(c.p)
		if ok != c.ok || (ok && d != c.depth) {
			t.Errorf("MountRootDepth(%q) = %d, %v; want %d, %v", c.p, d, ok, c.depth, c.ok)
		}
	}
}

func TestJoinNamespacePath(t *testing.T) {
	// The namespace root of a containerd pod's container on a systemd-driver node, and paths
	// read from inside it as the kernel prints them (ups first, then downs).
	const pod = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice"
	const root = pod + "/cri-containerd-1111111111111111111111111111111111111111111111111111111111111111.scope"
	for _, c := range []struct {
		root, p, want string
		ok            bool
	}{
		{"/", "/", "/", true},
		{"/", "/system.slice/containerd.service", "/system.slice/containerd.service", true},
		{"/", "/a//b/", "/a/b", true},
		{"/", "/..", "", false},
		{root, "/", root, true},
		{root, "/sub", root + "/sub", true},
		{root, "/../cri-containerd-2222.scope", pod + "/cri-containerd-2222.scope", true},
		{root, "/../../../../init.scope", "/init.scope", true},
		{root, "/../../../..", "/", true},
		{root, "/../../../../..", "", false},
		{root, "relative", "", false},
		{root, "", "", false},
		{"", "/x", "", false},
	} {
		got, ok := JoinNamespacePath(c.root, c.p)
		if got != c.want || ok != c.ok {
			t.Errorf("JoinNamespacePath(%q, %q) = %q, %v; want %q, %v", c.root, c.p, got, ok, c.want, c.ok)
		}
	}
}

// nsTree builds a hierarchy laid out as a cgroup v2 node with the systemd kubelet driver (the
// layout of kubelet's cgroup_manager_linux.go and containerd's systemd cgroup driver): a few
// system services and pods, the collector in one container of a DaemonSet pod. cgroup.procs
// files hold the pids the kernel would list. It returns the mount and the collector's cgroup.
func nsTree(t *testing.T, collectorPID string) (string, string) {
	t.Helper()
	mount := t.TempDir()
	procs := map[string]string{
		"/init.scope":                            "1\n",
		"/system.slice/containerd.service":       "410\n455\n",
		"/system.slice/kubelet.service":          "520\n",
		"/system.slice/systemd-journald.service": "230\n",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda1_b2.slice/cri-containerd-aaaa.scope":   "1200\n",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc3_d4.slice/cri-containerd-bbbb.scope": "1300\n1301\n",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc3_d4.slice/cri-containerd-cccc.scope": collectorPID + "\n",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pode5_f6.slice/cri-containerd-dddd.scope": "1400\n",
	}
	for dir, pids := range procs {
		touch(t, filepath.Join(mount, dir, "cgroup.procs"), pids)
	}
	for _, d := range []string{"/", "/system.slice", "/kubepods.slice", "/kubepods.slice/kubepods-besteffort.slice"} {
		touch(t, filepath.Join(mount, d, "cgroup.procs"), "")
	}
	return mount, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc3_d4.slice/cri-containerd-cccc.scope"
}

func TestFindNamespaceRoot(t *testing.T) {
	mount, own := nsTree(t, "1500")
	for _, depth := range []int{4, -1} {
		got, err := FindNamespaceRoot(mount, 1500, "/", depth)
		if err != nil || got != own {
			t.Errorf("depth %d: got %q, %v; want %q", depth, got, err, own)
		}
	}
	// The collector in a sub-cgroup of its namespace ("/sub" as it reads its own cgroup).
	touch(t, filepath.Join(mount, own, "sub", "cgroup.procs"), "1600\n")
	if got, err := FindNamespaceRoot(mount, 1600, "/sub", -1); err != nil || got != own {
		t.Errorf("from a sub-cgroup: got %q, %v; want %q", got, err, own)
	}
	// No private namespace: the process reads its host path, found at the first read.
	if got, err := FindNamespaceRoot(mount, 520, "/system.slice/kubelet.service", -1); err != nil || got != "/" {
		t.Errorf("host namespace: got %q, %v; want /", got, err)
	}
	// A wrong depth hint, a pid listed nowhere, a path that climbs: clear errors.
	for _, c := range []struct {
		pid   int
		self  string
		depth int
	}{{1500, "/", 2}, {9999, "/", -1}, {1500, "/../x", -1}, {1500, "/a/../b", -1}} {
		if got, err := FindNamespaceRoot(mount, c.pid, c.self, c.depth); !errors.Is(err, ErrNamespaceRootNotFound) {
			t.Errorf("FindNamespaceRoot(pid %d, %q, depth %d) = %q, %v; want ErrNamespaceRootNotFound", c.pid, c.self, c.depth, got, err)
		}
	}
	// A pid must match a whole line, not a prefix of another pid.
	if got, err := FindNamespaceRoot(mount, 150, "/", -1); err == nil {
		t.Errorf("pid 150 found at %q through 1500", got)
	}
	// Then every path the collector reads maps to its directory in the mount.
	for view, host := range map[string]string{
		"/../cri-containerd-bbbb.scope": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc3_d4.slice/cri-containerd-bbbb.scope",
		"/../../../kubepods-burstable.slice/kubepods-burstable-poda1_b2.slice/cri-containerd-aaaa.scope": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda1_b2.slice/cri-containerd-aaaa.scope",
		"/../../../../system.slice/containerd.service":                                                   "/system.slice/containerd.service",
	} {
		got, ok := JoinNamespacePath(own, view)
		if !ok || got != host {
			t.Errorf("%s: mapped to %q, %v; want %q", view, got, ok, host)
			continue
		}
		if _, err := os.Stat(filepath.Join(mount, got, "cgroup.procs")); err != nil {
			t.Errorf("%s: mapped to %s, not a cgroup of the tree: %v", view, got, err)
		}
	}
}

func TestFindNamespaceRootBounded(t *testing.T) {
	// A tree deeper than the search bound, with the pid at the bottom: not found, no hang.
	mount := t.TempDir()
	deep := strings.Repeat("/d", MaxNamespaceRootDepth+2)
	touch(t, filepath.Join(mount, deep, "cgroup.procs"), "77\n")
	if _, err := FindNamespaceRoot(mount, 77, "/", -1); !errors.Is(err, ErrNamespaceRootNotFound) {
		t.Errorf("found a namespace root deeper than the bound: %v", err)
	}
	if _, err := FindNamespaceRoot(filepath.Join(mount, "missing"), 77, "/", -1); !errors.Is(err, ErrNamespaceRootNotFound) {
		t.Errorf("missing mount: %v", err)
	}
}

// BenchmarkFindNamespaceRoot measures the one-time search on a v2 tree in the kubelet's systemd
// driver layout (pkg/kubelet/cm/cgroup_manager_linux.go: guaranteed pods directly under
// kubepods.slice, burstable and best-effort ones in kubepods-<qos>.slice): 40 system services
// and 500 pods of 2 containers each, the collector in the last pod. Directories only, in a
// temporary directory, not a kernel's cgroupfs. With the depth from mountinfo only the pods'
// container level is read; without it every level above is read too.
func BenchmarkFindNamespaceRoot(b *testing.B) {
	mount := b.TempDir()
	mk := func(dir, procs string) {
		if err := os.MkdirAll(filepath.Join(mount, dir), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mount, dir, "cgroup.procs"), []byte(procs), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	mk("/", "")
	for i := range 40 {
		mk(fmt.Sprintf("/system.slice/svc-%d.service", i), fmt.Sprintf("%d\n", 100+i))
	}
	own := ""
	for i := range 500 {
		pod := fmt.Sprintf("/kubepods.slice/kubepods-pod%08d_0000_0000_0000_000000000000.slice", i) // guaranteed
		if q := []string{"besteffort", "burstable"}[i%2]; i%3 != 0 {
			pod = fmt.Sprintf("/kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%08d_0000_0000_0000_000000000000.slice", q, q, i)
		}
		for c := range 2 {
			dir := fmt.Sprintf("%s/cri-containerd-%064d.scope", pod, 2*i+c)
			mk(dir, fmt.Sprintf("%d\n", 10000+2*i+c))
			own = dir
		}
	}
	pid := 10000 + 2*499 + 1
	for _, depth := range []int{4, -1} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			for b.Loop() {
				if got, err := FindNamespaceRoot(mount, pid, "/", depth); err != nil || got != own {
					b.Fatalf("%q %v", got, err)
				}
			}
		})
	}
}
