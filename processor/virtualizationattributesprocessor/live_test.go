package virtualizationattributesprocessor

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"
)

// systemdVMNames maps systemd-detect-virt --vm answers to our hypervisor names.
var systemdVMNames = map[string]string{
	"kvm": "kvm", "amazon": "nitro", "microsoft": "hyperv", "oracle": "virtualbox", "vmware": "vmware",
	"xen": "xen", "google": "kvm", "bhyve": "bhyve", "parallels": "parallels", "acrn": "acrn", "apple": "apple",
	"qnx": "qnx", "vm-other": "other",
}

// systemdContainerLayers maps systemd-detect-virt --container answers to our layers.
var systemdContainerLayers = map[string]string{
	"docker": "container:docker", "podman": "container:podman", "lxc": "container:lxc", "lxc-libvirt": "container:lxc",
	"systemd-nspawn": "container:systemd-nspawn", "wsl": "guest:wsl",
}

func systemdDetectVirt(t *testing.T, arg string) (string, bool) {
	path, err := exec.LookPath("systemd-detect-virt")
	if err != nil {
		return "", false
	}
	out, _ := exec.Command(path, arg).Output() // exits 1 when it prints "none"
	return strings.TrimSpace(string(out)), true
}

// acpiOEM reads the OEM id straight from an ACPI table header (bytes 10-15).
func acpiOEM() string {
	entries, _ := os.ReadDir("/sys/firmware/acpi/tables")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/sys/firmware/acpi/tables", e.Name()))
		if err == nil && len(b) >= 16 {
			return strings.TrimSpace(string(b[10:16]))
		}
	}
	return ""
}

// TestLiveHost derives the layers of the machine it runs on from evidence gathered here, apart
// from the detection code (systemd-detect-virt, the raw cpuinfo flag, raw ACPI bytes, marker
// files), and checks that the processor reports them.
func TestLiveHost(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Association.Lookup = false
	p, err := newVirtProcessor(cfg, processortest.NewNopSettings(Type))
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	defer p.shutdown(context.Background())
	td, err := p.processTraces(context.Background(), tracesWith(map[string]any{}))
	require.NoError(t, err)
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	layers := sliceAttr(attrs, attrLayers)
	t.Logf("reported layers: %v (confidence %s)", layers, strAttr(t, attrs, attrDetectionConfidence))

	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	hvFlag := bytes.Contains(cpuinfo, []byte(" hypervisor"))

	vm, haveSystemd := systemdDetectVirt(t, "--vm")
	switch {
	case haveSystemd && vm != "none" && vm != "":
		want, known := systemdVMNames[vm]
		if vm == "qemu" {
			want, known = strAttr(t, attrs, attrHypervisorName), true // kvm or tcg: systemd does not say
			assert.Contains(t, []string{"kvm", "tcg"}, want)
		}
		require.True(t, known, "systemd-detect-virt --vm said %q: add it to the mapping", vm)
		assert.Equal(t, want, strAttr(t, attrs, attrHypervisorName), "systemd-detect-virt --vm says %s", vm)
	case hvFlag:
		assert.NotEmpty(t, strAttr(t, attrs, attrHypervisorName), "the CPU hypervisor flag is set")
	case haveSystemd && vm == "none":
		assert.Empty(t, strAttr(t, attrs, attrHypervisorName), "systemd-detect-virt --vm says none")
	}
	if hvFlag {
		require.NotEmpty(t, layers)
		assert.True(t, strings.HasPrefix(layers[0], "hypervisor:"), "the hypervisor is the outermost layer: %v", layers)
	}

	if os.Geteuid() == 0 {
		want := map[string]string{"FIRECK": "firecracker", "CLOUDH": "cloud_hypervisor", "BOCHS": "qemu", "Google": "gce"}[acpiOEM()]
		if want != "" {
			assert.Equal(t, want, strAttr(t, attrs, attrVMMName), "ACPI OEM id %q names the VMM", acpiOEM())
			assert.Contains(t, layers, "vmm:"+want)
		}
	}

	if c, ok := systemdDetectVirt(t, "--container"); ok && c != "none" && c != "" {
		want, known := systemdContainerLayers[c]
		require.True(t, known, "systemd-detect-virt --container said %q: add it to the mapping", c)
		assert.Contains(t, layers, want, "systemd-detect-virt --container says %s", c)
		assert.Equal(t, want, layers[len(layers)-1], "the container is the innermost layer")
	} else if _, err := os.Stat("/.dockerenv"); err == nil {
		assert.Contains(t, layers, "container:docker", "/.dockerenv exists")
	}
	if !hvFlag && !haveSystemd {
		t.Log("no independent evidence of a hypervisor on this machine; only the container layer was checked")
	}
}
