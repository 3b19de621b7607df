package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The built binary, configured as the receiver's README shows (vm.qemu_qmp: [{}]), finds a
// real KVM guest's QMP monitor on its command line and exports its KVM exits, state and size
// through Prometheus; the exits grow between two scrapes.
func TestBinaryQEMUMonitor(t *testing.T) {
	skipShort(t)
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (make deps installs qemu-system-x86)")
	}
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		t.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
	} else {
		f.Close()
	}
	sock := filepath.Join(t.TempDir(), "e2e.qmp")
	q := exec.Command(bin, "-accel", "kvm", "-smp", "2", "-m", "48", "-nodefaults", "-display", "none",
		"-name", "guest=e2e-qmp,debug-threads=on", "-qmp", "unix:"+sock+",server=on,wait=off")
	require.NoError(t, q.Start())
	t.Cleanup(func() { _ = q.Process.Kill(); _ = q.Wait() })
	pid := strconv.Itoa(q.Process.Pid)

	prom := FreeEndpoint(t)
	cfg := WriteConfig(t, fmt.Sprintf(`
receivers:
  wasm_runtime:
    collection_interval: 1s
    vm:
      qemu_qmp: [{}]
exporters:
  prometheus:
    endpoint: %s
    resource_to_telemetry_conversion:
      enabled: true
service:
  pipelines:
    metrics:
      receivers: [wasm_runtime]
      exporters: [prometheus]
`, prom))
	StartCollector(t, Options{Configs: []string{cfg}})

	scrape := func() string {
		resp, err := http.Get("http://" + prom + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	value := func(body, metric, extra string) (float64, bool) {
		re := regexp.MustCompile(`(?m)^` + metric + `\{[^}]*process_pid="` + pid + `"[^}]*` + extra + `[^}]*\} ([0-9.e+]+)$`)
		m := re.FindStringSubmatch(body)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return v, err == nil
	}
	var first float64
	require.Eventually(t, func() bool {
		var ok bool
		first, ok = value(scrape(), "wasm_runtime_vm_kvm_exits_total", "")
		return ok && first > 0
	}, 30*time.Second, 250*time.Millisecond, "the guest's KVM exits exported")
	var body string
	require.Eventually(t, func() bool {
		body = scrape()
		later, ok := value(body, "wasm_runtime_vm_kvm_exits_total", "")
		return ok && later > first
	}, 30*time.Second, 250*time.Millisecond, "KVM exits increase")
	running, ok := value(body, "wasm_runtime_vm_state", `wasm_runtime_vm_state="running"`)
	require.True(t, ok, "state exported")
	assert.Equal(t, 1.0, running)
	vcpus, _ := value(body, "wasm_runtime_vm_vcpu_count", "")
	assert.Equal(t, 2.0, vcpus)
	mem, _ := value(body, "wasm_runtime_vm_memory_size_bytes", "")
	assert.Equal(t, float64(48<<20), mem)
}
