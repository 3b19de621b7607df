package virtualizationattributesprocessor

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("live environment test: runs the real binary in a sandbox, container or VM (skipped with -short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("live environment tests need root (runsc, podman, /dev/kvm)")
	}
}

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package %s; `make deps` installs it)", name, pkg)
	}
	return p
}

// systemdVMHypervisor maps the real systemd-detect-virt --vm answer on this machine to the
// hypervisor layer the binary must report in a sandbox or container here (CPUID passes through
// both). It is the expectation's independent source: the tool, not the code under test.
var systemdVMHypervisor = map[string]string{
	"none": "", "kvm": "kvm", "qemu": "tcg", "microsoft": "hyperv", "xen": "xen", "vmware": "vmware",
	"oracle": "virtualbox", "amazon": "nitro", "bhyve": "bhyve", "parallels": "parallels", "acrn": "acrn",
}

// hostHypervisor is the hypervisor layer name ("" for none) systemd-detect-virt --vm reports for
// this machine.
func hostHypervisor(t *testing.T) string {
	t.Helper()
	hv, ok := systemdHostHypervisor(t)
	if !ok {
		t.Skip("systemd-detect-virt is not installed (Debian package systemd): it gives the expected hypervisor")
	}
	return hv
}

// systemdHostHypervisor is hostHypervisor for tests that go on without the tool (ok false).
func systemdHostHypervisor(t *testing.T) (hv string, ok bool) {
	t.Helper()
	sdv, err := exec.LookPath("systemd-detect-virt")
	if err != nil {
		return "", false
	}
	out, _ := exec.Command(sdv, "--vm").Output() // exits 1 with "none"
	answer := strings.TrimSpace(string(out))
	hv, known := systemdVMHypervisor[answer]
	require.True(t, known, "systemd-detect-virt --vm says %q here: add the hypervisor it means to systemdVMHypervisor", answer)
	return hv, true
}

func runLive(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), tail(out.String(), 6000))
	return out.String()
}

// TestLiveThisHost: this machine is a Firecracker micro-VM on KVM whose root carries a
// /.dockerenv left from building its image; PID 1 is the VM's init and nothing else says
// container. The binary must report kvm and firecracker, and no container.
func TestLiveThisHost(t *testing.T) {
	requireRoot(t)
	acpi := acpiOEM()
	if acpi != "FIRECK" {
		t.Skipf("this test describes a Firecracker guest (ACPI OEM FIRECK); this machine's ACPI OEM id is %q", acpi)
	}
	bins := buildLiveBinaries(t)
	sdv, _ := exec.LookPath("systemd-detect-virt")
	out := runLive(t, 3*time.Minute, "sh", filepath.Join(bins.dir, "live.sh"), bins.dir, sdv)
	r := parseLiveOutput(t, out)
	assert.Equal(t, []string{"hypervisor:kvm", "vmm:firecracker"}, r.layers, "no container layer despite /.dockerenv")
	assert.Equal(t, "kvm", r.attrs[attrHypervisorName])
	assert.Equal(t, "firecracker", r.attrs[attrVMMName])
	assert.Equal(t, "microvm", r.attrs[attrHostIsolationLevel])
	assert.Nil(t, r.attrs[attrContainerRuntime])
	if _, err := os.Stat("/.dockerenv"); err == nil && sdv != "" {
		assert.Equal(t, "docker", r.systemd["plain"], "systemd-detect-virt takes the stray /.dockerenv for Docker")
	}
	if sdv != "" {
		assert.Equal(t, "kvm", r.systemd["vm"], "systemd-detect-virt --vm agrees on the hypervisor")
	}
	checkAgainstFixture(t, "live-firecracker-host", originText("live-firecracker-host",
		"this development machine itself, a Firecracker micro-VM on KVM (ACPI OEM id FIRECK) whose root file system "+
			"carries a /.dockerenv left from building its image; PID 1 is the VM's own init.",
		"kernel "+hostKernel(), commandLine("systemd-detect-virt", "--version")), r)
}

// TestLiveGVisor runs the binary under gVisor (`runsc --network=none do`): a sandbox layer on
// top of what the sandbox lets through of this host.
func TestLiveGVisor(t *testing.T) {
	requireRoot(t)
	runsc := requireTool(t, "runsc", "runsc")
	bins := buildLiveBinaries(t)
	sdv, _ := exec.LookPath("systemd-detect-virt")
	out := runLive(t, 4*time.Minute, runsc, "--network=none", "do", "/bin/sh", filepath.Join(bins.dir, "live.sh"), bins.dir, sdv)
	r := parseLiveOutput(t, out)
	want := []string{"sandbox:gvisor"}
	if hv := hostHypervisor(t); hv != "" {
		if _, err := os.Stat(filepath.Join(r.capture, "cpuid")); err != nil {
			hv = "other" // gVisor hid the vendor leaf: only the cpuinfo flag is left
		}
		// No VMM: gVisor shows no DMI, ACPI or PCI of the machine.
		want = append([]string{"hypervisor:" + hv}, want...)
	}
	assert.Equal(t, want, r.layers, "the host's hypervisor, then the sandbox; runsc do is no container engine and /.dockerenv is this host's stray file")
	if len(want) > 1 {
		assert.Equal(t, "vm", r.attrs[attrHostIsolationLevel], "the hypervisor under the sandbox is the strongest boundary")
	} else {
		assert.Equal(t, "sandbox", r.attrs[attrHostIsolationLevel])
	}
	if sdv != "" {
		require.Contains(t, r.systemd, "vm", "the real systemd-detect-virt ran in the sandbox (its answers go into the fixture):\n%s", tail(r.output, 3000))
	}
	checkAgainstFixture(t, "live-gvisor", originText("live-gvisor",
		"`runsc --network=none do` (gVisor, Debian's runsc) on the Firecracker/KVM development machine.",
		commandLine(runsc, "--version"), "host kernel "+hostKernel()), r)
}
