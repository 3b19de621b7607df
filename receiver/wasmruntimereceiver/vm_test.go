package wasmruntimereceiver

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// TestQEMUVirtualMachine boots a real qemu-system-x86_64 (no disk: the firmware keeps looking
// for a boot device, which is all the test needs) and checks that the built-in catalog finds it
// with its name, uuid, vCPUs and memory size taken from the command line.
func TestQEMUVirtualMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a VM; skipped with -short")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (make deps installs the Debian package)")
	}
	const uuid = "5f3c7e1a-9b2d-4c6e-8f10-a1b2c3d4e5f6"
	accel := "tcg"
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		accel = "kvm:tcg"
	}
	cmd := exec.Command(qemu, "-name", "guest=otelcol-test-vm,debug-threads=on", "-uuid", uuid,
		"-m", "64", "-smp", "2", "-machine", "accel="+accel, "-nographic", "-nodefaults",
		"-monitor", "none", "-serial", "null", "-no-reboot")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })

	s := newTestScraper(t, testConfig())
	rm := scrapeUntil(t, s, cmd.Process.Pid, 20*time.Second, "qemu discovered with its memory resident", func(rm pmetric.ResourceMetrics) bool {
		_, ok := value(rm, "wasm_runtime.cpu.usage")
		return ok
	})
	t.Log(dump(rm))
	assert.Equal(t, "vm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, "otelcol-test-vm", resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, uuid, resAttr(rm, "wasm_runtime.vm.id"))
	assert.Equal(t, "2", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, strconv.Itoa(64<<20), resAttr(rm, "wasm_runtime.vm.memory_size"))
	assert.Equal(t, "qemu-system-x86_64", resAttr(rm, "process.executable.name"), "the base name of /proc/<pid>/exe, not the 15-byte comm")
	threads, _ := value(rm, "wasm_runtime.thread.count")
	assert.GreaterOrEqual(t, threads, 3.0, "main loop and two vCPU threads")
}

// TestCrossCheckAgainstProcfs compares what the receiver reports for real instances with an
// independent read of /proc/<pid>/stat and status: CPU time of a cgroup-backed instance
// (the receiver reads cpuacct.stat or cpu.stat) and resident memory of a process-tree instance
// and of a cgroup (anon) instance, each within 5 %.
func TestCrossCheckAgainstProcfs(t *testing.T) {
	needIntegration(t)
	g := cgrouptest.New(t, cgrouptest.Limits{CPUQuotaUsec: 100000, CPUPeriodUsec: 100000})
	spinner := startGuest(t, g, nil, "cpuloop")
	grower := startGuest(t, nil, nil, "memgrow", "96")
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{wazeroRuntime()}
	s := newTestScraper(t, cfg)

	// Let the spinner accumulate over a second of CPU (longer on a busy machine) and the grower
	// reach its plateau.
	for deadline := time.Now().Add(60 * time.Second); independentCPUSeconds(t, spinner.Process.Pid) < 1.2; {
		require.True(t, time.Now().Before(deadline), "the spinner got no CPU")
		time.Sleep(200 * time.Millisecond)
	}
	rss := func(pid int) float64 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		require.NoError(t, err)
		st, err := proc.ParseStatus(b)
		require.NoError(t, err)
		return float64(st.VmRSS)
	}
	for try := 0; ; try++ {
		before := rss(grower.Process.Pid)
		time.Sleep(300 * time.Millisecond)
		if after := rss(grower.Process.Pid); after == before || try > 40 {
			break
		}
	}

	// The spinner keeps running: bracket the scrape with independent reads.
	cpuBefore := independentCPUSeconds(t, spinner.Process.Pid)
	md := scrapeOnce(t, s)
	cpuStat := independentCPUSeconds(t, spinner.Process.Pid)
	growerRSS := rss(grower.Process.Pid)

	spin, ok := findResource(md, "process.pid", strconv.Itoa(spinner.Process.Pid))
	require.True(t, ok)
	user, _ := value(spin, "container.cpu.time", "cpu.mode", "user")
	sys, _ := value(spin, "container.cpu.time", "cpu.mode", "system")
	t.Logf("cpu: receiver %.3fs (cgroup), /proc/%d/stat %.3fs..%.3fs", user+sys, spinner.Process.Pid, cpuBefore, cpuStat)
	require.Greater(t, cpuStat, 1.0)
	assert.GreaterOrEqual(t, user+sys, cpuBefore*0.95)
	assert.LessOrEqual(t, user+sys, cpuStat*1.05)

	grow, ok := findResource(md, "process.pid", strconv.Itoa(grower.Process.Pid))
	require.True(t, ok)
	mem, ok := value(grow, "wasm_runtime.memory.rss")
	require.True(t, ok)
	t.Logf("rss: receiver %.0f B, /proc/%d/status VmRSS %.0f B", mem, grower.Process.Pid, growerRSS)
	assert.InEpsilon(t, growerRSS, mem, 0.05)
	pt, _ := value(grow, "wasm_runtime.cpu.time", "cpu.mode", "user")
	assert.Greater(t, pt, 0.0)
}

func independentCPUSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, err := strconv.ParseFloat(f[11], 64) // field 14
	require.NoError(t, err)
	st, err := strconv.ParseFloat(f[12], 64) // field 15
	require.NoError(t, err)
	return (ut + st) / 100
}
