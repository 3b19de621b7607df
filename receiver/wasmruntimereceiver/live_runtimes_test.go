package wasmruntimereceiver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/fixturecapture"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// These tests start real runtimes from Debian's packages (make deps installs them), run the
// real otelcol-virt binary beside them and check, at an OTLP sink, that each is found as one
// instance with the identity its upstream layout gives, cross-checked against /proc and the
// cgroup files read here independently. Each then captures the live instance into a fixture
// root and requires the receiver to read the same identity from it: the fixture and the live
// run agree. With OTELCOL_VIRT_CAPTURE_DIR set (make capture-fixtures) the capture is kept there.

func needLive(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real runtimes and the collector binary; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run runtimes that create cgroups")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs its Debian package)", tool)
		}
	}
}

// liveCollector runs the real binary with the receiver config and an OTLP exporter to a sink.
func liveCollector(t *testing.T, receiver string) *e2e.Sink {
	t.Helper()
	sink := e2e.NewSink(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
receivers:
  wasm_runtime:
    collection_interval: 1s
%s
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
`, receiver, sink.GRPCEndpoint))
	e2e.StartCollector(t, e2e.Options{Configs: []string{cfg}})
	return sink
}

// waitResource waits for a resource whose attribute key is value and which has metric.
func waitResource(t *testing.T, sink *e2e.Sink, key, val, metric string) pmetric.ResourceMetrics {
	t.Helper()
	var rm pmetric.ResourceMetrics
	ok := sink.WaitFor(60*time.Second, func(s *e2e.Sink) bool {
		for _, r := range s.Requests() {
			if r.Signal != "metrics" {
				continue
			}
			if res, found := findResource(r.Metrics, key, val); found {
				if _, has := value(res, metric); has {
					rm = res
				}
			}
		}
		return rm != (pmetric.ResourceMetrics{})
	})
	require.True(t, ok, "no instance with %s=%s and %s reached the sink", key, val, metric)
	return rm
}

// cgroupOf reads a process's path in the cpu controller's hierarchy (v1) or the unified one.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	require.NoError(t, err)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (strings.Contains(","+parts[1]+",", ",cpu,") || (parts[0] == "0" && parts[2] != "/")) {
			return parts[2]
		}
	}
	t.Fatalf("no cpu cgroup for pid %d in %s", pid, b)
	return ""
}

// cgroupProcs lists the pids of a cgroup in the first v1 hierarchy that has it (or unified).
func cgroupProcs(t *testing.T, path string) []string {
	t.Helper()
	for _, base := range []string{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"} {
		if b, err := os.ReadFile(filepath.Join(base, path, "cgroup.procs")); err == nil {
			return strings.Fields(string(b))
		}
	}
	t.Fatalf("no cgroup.procs for %s", path)
	return nil
}

// memoryUsage reads the cgroup's memory usage (v1 or v2).
func memoryUsage(t *testing.T, path string) float64 {
	t.Helper()
	for _, f := range []string{filepath.Join("/sys/fs/cgroup/memory", path, "memory.usage_in_bytes"), filepath.Join("/sys/fs/cgroup", path, "memory.current")} {
		if b, err := os.ReadFile(f); err == nil {
			v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("no memory usage for %s", path)
	return 0
}

// identityAttrs are the resource attributes that say what an instance is.
var identityAttrs = []string{"wasm_runtime.instance.id", "wasm_runtime.instance.kind", "wasm_runtime.instance.grouping", "wasm_runtime.runtime",
	"wasm_runtime.vmm", "wasm_runtime.vm.name", "wasm_runtime.vm.id", "wasm_runtime.vm.vcpus", "wasm_runtime.vm.memory_size",
	"container.id", "container.runtime.name", "process.executable.name"}

// captureAgrees captures pids into a fixture root and requires the receiver to report, from
// it, an instance of main pid with the same identity the live binary reported.
func captureAgrees(t *testing.T, name, origin string, live pmetric.ResourceMetrics, tweak func(*Config), pids ...int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if keep := os.Getenv("OTELCOL_VIRT_CAPTURE_DIR"); keep != "" {
		dir = filepath.Join(keep, name)
		require.NoError(t, os.RemoveAll(dir))
	}
	require.NoError(t, fixturecapture.Capture(dir, origin, "/proc", "/sys/fs/cgroup", pids))
	md, _ := scrapeDirWith(t, dir, nil, tweak)
	rm := mustResource(t, md, resAttr(live, "process.pid"))
	for _, k := range identityAttrs {
		assert.Equal(t, resAttr(live, k), resAttr(rm, k), "%s: the capture says otherwise than the live host", k)
	}
}

func TestLiveGVisorSandbox(t *testing.T) {
	needLive(t, "runsc")
	cmd := exec.Command("runsc", "--network=none", "do", "sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	var sandbox, gofer int
	require.Eventually(t, func() bool {
		sandbox, gofer = childWithArgv0(cmd.Process.Pid, "runsc-sandbox"), childWithArgv0(cmd.Process.Pid, "runsc-gofer")
		return sandbox > 0 && gofer > 0
	}, 30*time.Second, 100*time.Millisecond, "runsc do started no sandbox")
	path := cgroupOf(t, sandbox)
	require.Equal(t, path, cgroupOf(t, gofer), "runsc do puts gofer and sandbox in one cgroup")
	require.True(t, strings.HasPrefix(path, "/runsc-"), "runsc do's cgroup is /runsc-<id>: %s", path)

	sink := liveCollector(t, "    include:\n      runtimes: [gvisor]\n")
	before := memoryUsage(t, path)
	rm := waitResource(t, sink, "container.id", strings.TrimPrefix(path, "/"), "container.memory.usage")
	after := memoryUsage(t, path)
	assert.Equal(t, "gvisor", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "sandbox", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, path, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, "gvisor", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, float64(len(cgroupProcs(t, path))), mustValue(t, rm, "wasm_runtime.process.count"), "every process of the sandbox's cgroup, gofer included")
	usage := mustValue(t, rm, "container.memory.usage")
	assert.GreaterOrEqual(t, usage, min(before, after)*0.95)
	assert.LessOrEqual(t, usage, max(before, after)*1.05)
	captureAgrees(t, "captured-gvisor-runsc-do", "runsc --network=none do sleep 600 (Debian runsc 20221219): its gofer and sandbox.", rm, nil, gofer, sandbox)
}

// bundleSeq keeps the pod uids and container ids of one test binary's bundles apart.
var bundleSeq atomic.Int64

// runscPodBundle runs argv in an OCI bundle with runsc run, as containerd's runsc shim does for
// a Kubernetes pod: the bundle's linux.cgroupsPath is the kubelet's cgroupfs layout
// (kubepods/<qos>/pod<uid>/<container id>), where runsc puts its sandbox and gofer
// (runsc/cgroup/cgroup.go, commit 3c5eee17). It returns that cgroup, the pod uid and the id.
func runscPodBundle(t *testing.T, argv ...string) (path, podUID, cid string) {
	t.Helper()
	bundle, state := t.TempDir(), t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs", "bin")
	require.NoError(t, os.MkdirAll(rootfs, 0o755))
	bb, err := exec.LookPath("busybox")
	require.NoError(t, err)
	data, err := os.ReadFile(bb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rootfs, "busybox"), data, 0o755))
	for _, applet := range []string{"sleep", "sh"} {
		require.NoError(t, os.Symlink("busybox", filepath.Join(rootfs, applet)))
	}
	out, err := exec.Command("runsc", append([]string{"spec", "--bundle", bundle, "--"}, argv...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)

	seq := bundleSeq.Add(1)
	podUID = fmt.Sprintf("0f0e0d0c-%04x-4b0a-9c0d-%012d", seq, os.Getpid())
	cid = fmt.Sprintf("%056x%08x", os.Getpid(), seq)
	path = "/kubepods/besteffort/pod" + podUID + "/" + cid
	specPath := filepath.Join(bundle, "config.json")
	spec, err := os.ReadFile(specPath)
	require.NoError(t, err)
	spec = []byte(strings.Replace(string(spec), `"linux": {`, `"linux": {"cgroupsPath": "`+path+`",`, 1))
	spec = []byte(strings.Replace(string(spec), `"terminal": true`, `"terminal": false`, 1))
	require.Contains(t, string(spec), path)
	require.NoError(t, os.WriteFile(specPath, spec, 0o644))

	id := fmt.Sprintf("otelcol-virt-live-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	// Not through a pipe: the detached sandbox inherits runsc's stdout and would hold it open.
	logPath := filepath.Join(state, "run.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	run := exec.Command("runsc", "--root", state, "--network=none", "run", "--bundle", bundle, "--detach", id)
	run.Stdout, run.Stderr = logFile, logFile
	err = run.Run()
	_ = logFile.Close()
	runLog, _ := os.ReadFile(logPath)
	require.NoError(t, err, "%s", runLog)
	t.Cleanup(func() {
		_ = exec.Command("runsc", "--root", state, "delete", "--force", id).Run()
		// runsc removes the container's cgroup; the pod and QoS levels it created above are ours.
		for _, c := range []string{"cpu", "cpuacct", "memory", "pids", "blkio", "devices", "freezer", "cpuset", "systemd", "unified", ""} {
			for _, d := range []string{"/kubepods/besteffort/pod" + podUID, "/kubepods/besteffort", "/kubepods"} {
				_ = os.Remove(filepath.Join("/sys/fs/cgroup", c, d))
			}
		}
	})
	return path, podUID, cid
}

// The instance is the bundle's cgroup, named by the pod and container the path gives, with
// every process in it.
func TestLiveGVisorRunBundle(t *testing.T) {
	needLive(t, "runsc", "busybox")
	path, podUID, cid := runscPodBundle(t, "/bin/sleep", "600")
	procs := cgroupProcs(t, path)
	require.GreaterOrEqual(t, len(procs), 2, "sandbox and gofer in %s", path)

	sink := liveCollector(t, "    include:\n      runtimes: [gvisor]\n")
	before := memoryUsage(t, path)
	rm := waitResource(t, sink, "container.id", cid, "container.memory.usage")
	after := memoryUsage(t, path)
	assert.Equal(t, "gvisor", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "sandbox", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "cgroup", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"))
	assert.Equal(t, "besteffort", resAttr(rm, "wasm_runtime.k8s.pod.qos"))
	assert.Equal(t, path, resAttr(rm, "wasm_runtime.cgroup.path"))
	assert.Equal(t, float64(len(cgroupProcs(t, path))), mustValue(t, rm, "wasm_runtime.process.count"), "sandbox, gofer and the sentry's children")
	usage := mustValue(t, rm, "container.memory.usage")
	assert.GreaterOrEqual(t, usage, min(before, after)*0.95)
	assert.LessOrEqual(t, usage, max(before, after)*1.05)
	sandbox, err := strconv.Atoi(resAttr(rm, "process.pid"))
	require.NoError(t, err)
	var pids []int
	for _, p := range procs {
		if n, err := strconv.Atoi(p); err == nil {
			pids = append(pids, n)
		}
	}
	require.Contains(t, pids, sandbox, "the instance's main process is in the bundle's cgroup")
	captureAgrees(t, "captured-gvisor-runsc-run", "runsc run --bundle <busybox-static rootfs> with linux.cgroupsPath "+
		"/kubepods/besteffort/pod<uid>/<id> (Debian runsc 20221219): sandbox, gofer and the sentry's processes.", rm, nil, pids...)
}

// TestLiveGVisorPodSandboxCPU: a gVisor pod's workload runs inside the sentry, outside any
// process a container's own cgroup tools see, which is why cAdvisor shows it near zero. The
// receiver attributes the sandbox's CPU to the pod's container: container.cpu.time must be at
// least the CPU time /proc gives for the cgroup's processes just before the collector starts
// (-5 %: /proc counts in ticks), and at most what the kernel charged the cgroup just after the
// point arrives (+5 %). The upper bound is the cgroup's own account, not /proc's: it also holds
// the CPU of runsc's set-up processes that ran in the cgroup and exited, which no live
// process's stat carries (on a loaded machine about a quarter of a second).
func TestLiveGVisorPodSandboxCPU(t *testing.T) {
	needLive(t, "runsc", "busybox")
	path, podUID, cid := runscPodBundle(t, "/bin/sh", "-c", "while :; do :; done")
	// Let the busy loop build up seconds of CPU, so a tick of rounding is well under 5 %.
	require.Eventually(t, func() bool { return procCPUSeconds(t, path) > 2 }, 60*time.Second, 200*time.Millisecond,
		"the sandbox's busy loop did not run")
	before := procCPUSeconds(t, path)
	sink := liveCollector(t, "    include:\n      runtimes: [gvisor]\n")
	rm := waitResource(t, sink, "container.id", cid, "container.cpu.time")
	after, charged := procCPUSeconds(t, path), cgroupCPUSeconds(t, path)
	assert.Equal(t, podUID, resAttr(rm, "k8s.pod.uid"), "the CPU is the pod's")
	assert.Equal(t, "gvisor", resAttr(rm, "wasm_runtime.runtime"))
	var total float64
	for _, p := range points(rm, "container.cpu.time") { // user + system
		total += p.value
	}
	assert.GreaterOrEqual(t, total, before*0.95, "container.cpu.time %v against /proc %v..%v", total, before, after)
	assert.LessOrEqual(t, total, charged*1.05, "container.cpu.time %v against the cgroup's %v after (/proc %v)", total, charged, after)
}

// cgroupCPUSeconds is the CPU time the kernel charged a cgroup (v1 cpuacct.usage, v2 cpu.stat).
func cgroupCPUSeconds(t *testing.T, path string) float64 {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuacct", path, "cpuacct.usage")); err == nil {
		ns, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		require.NoError(t, err)
		return ns / 1e9
	}
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", path, "cpu.stat"))
	require.NoError(t, err, "no CPU account for %s", path)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return us / 1e6
		}
	}
	t.Fatalf("no usage_usec in %s/cpu.stat", path)
	return 0
}

// procCPUSeconds sums utime+stime of every process of a cgroup, read from /proc/<pid>/stat.
func procCPUSeconds(t *testing.T, path string) float64 {
	t.Helper()
	var ticks float64
	for _, p := range cgroupProcs(t, path) {
		st, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue // exited between the listing and the read
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		ticks += u + s
	}
	return ticks / 100 // USER_HZ is 100 on Linux/amd64
}

// childWithArgv0 finds a process below root whose argv[0] is argv0.
func childWithArgv0(root int, argv0 string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.HasPrefix(string(b), argv0+"\x00") {
			continue
		}
		for p, hops := pid, 0; p > 1 && hops < 16; hops++ {
			if p == root {
				return pid
			}
			st, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
			if err != nil {
				break
			}
			f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
			p, _ = strconv.Atoi(f[1])
		}
	}
	return 0
}

func TestLivePodmanContainer(t *testing.T) {
	needLive(t, "podman", "runc", "busybox")
	image := podmanImage(t)
	name := fmt.Sprintf("otelcol-virt-live-%d", os.Getpid())
	out, err := exec.Command("podman", "--runtime", "runc", "run", "-d", "--cgroup-manager=cgroupfs", "--network=none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--name", name, image, "sleep", "600").CombinedOutput()
	require.NoError(t, err, "%s", out)
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", "-t", "0", name).Run() })
	pidOut, err := exec.Command("podman", "inspect", "-f", "{{.State.Pid}}", name).Output()
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidOut)))
	require.NoError(t, err)
	path := cgroupOf(t, pid)
	require.True(t, strings.HasSuffix(path, "/libpod-"+id), "podman's cgroupfs layout: %s", path)

	sink := liveCollector(t, "    containers: true\n    include:\n      kinds: [container]\n")
	rm := waitResource(t, sink, "container.id", id, "container.memory.usage")
	assert.Equal(t, "podman", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "container", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, path, resAttr(rm, "wasm_runtime.instance.id"))
	assert.Equal(t, strconv.Itoa(pid), resAttr(rm, "process.pid"))
	assert.Equal(t, float64(len(cgroupProcs(t, path))), mustValue(t, rm, "wasm_runtime.process.count"), "the container's processes, not conmon")
	assert.Equal(t, 1024.0, mustValue(t, rm, "wasm_runtime.file_descriptor.limit"), "--ulimit nofile")
	captureAgrees(t, "captured-podman-runc", "podman 4.3 --runtime runc run --cgroup-manager=cgroupfs <busybox-static image> sleep 600.", rm,
		func(c *Config) { c.Containers = true }, pid)
}

// podmanImage imports a busybox-static root file system as an image (no registry needed).
func podmanImage(t *testing.T) string {
	t.Helper()
	const image = "localhost/otelcol-virt-busybox:test"
	if exec.Command("podman", "image", "exists", image).Run() == nil {
		return image
	}
	bb, err := exec.LookPath("busybox")
	require.NoError(t, err)
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	data, err := os.ReadFile(bb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755))
	for _, applet := range []string{"sh", "sleep"} {
		require.NoError(t, os.Symlink("busybox", filepath.Join(root, "bin", applet)))
	}
	tar := exec.Command("tar", "-C", root, "-c", ".")
	imp := exec.Command("podman", "import", "-", image)
	pipe, err := tar.StdoutPipe()
	require.NoError(t, err)
	imp.Stdin = pipe
	require.NoError(t, tar.Start())
	out, err := imp.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoError(t, tar.Wait())
	return image
}

func TestLiveLibvirtDomain(t *testing.T) {
	needLive(t, "virsh", "libvirtd", "virtlogd", "qemu-system-x86_64")
	guesttest.EnsureLibvirtd(t)
	name := fmt.Sprintf("otelcol-virt-live-%d", os.Getpid())
	xml := filepath.Join(t.TempDir(), "domain.xml")
	// TCG, as the captured fixture of a libvirt domain (a KVM domain: TestLibvirtKVMDomainThroughTheReceiver).
	require.NoError(t, os.WriteFile(xml, []byte(`<domain type='qemu'><name>`+name+`</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`), 0o644))
	virsh := func(args ...string) string {
		out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
		require.NoError(t, err, "virsh %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	virsh("define", xml)
	t.Cleanup(func() {
		_ = exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run()
		_ = exec.Command("virsh", "-c", "qemu:///system", "undefine", name).Run()
	})
	virsh("start", name)
	uuid, domid := virsh("domuuid", name), virsh("domid", name)
	pidB, err := os.ReadFile("/run/libvirt/qemu/" + name + ".pid")
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidB)))
	require.NoError(t, err)
	scope := "/machine/qemu-" + domid + "-" + name + ".libvirt-qemu"
	require.True(t, strings.HasPrefix(cgroupOf(t, pid), scope), "libvirt's cgroupfs layout: %s", cgroupOf(t, pid))

	sink := liveCollector(t, "    include:\n      kinds: [vm]\n")
	rm := waitResource(t, sink, "wasm_runtime.vm.id", uuid, "container.cpu.time")
	assert.Equal(t, "vm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, name, resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, "libvirt", resAttr(rm, "container.runtime.name"))
	assert.Equal(t, scope, resAttr(rm, "wasm_runtime.instance.id"), "the domain's scope, not its emulator sub-cgroup")
	assert.Equal(t, "1", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, strconv.Itoa(64<<20), resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, strconv.Itoa(pid), resAttr(rm, "process.pid"))
	captureAgrees(t, "captured-libvirt-qemu-tcg", "libvirt 9.0 (Debian, libvirtd without systemd) domain type='qemu' with 1 vCPU and 64 MiB.", rm, nil, pid)
}
