package virtualizationattributesprocessor

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shirou/gopsutil/v4/host"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// This file computes the side-by-side table of the README: our layers beside
// systemd-detect-virt and gopsutil's host.Virtualization on every fixture.
//
//   - gopsutil runs for real, once per fixture in a child process (it caches its answer
//     process-wide), with HOST_PROC/HOST_SYS/HOST_ETC/HOST_ROOT pointing into the fixture.
//   - systemd-detect-virt has no root option, so its answer is derived by re-implementing the
//     documented order of src/basic/virt.c (v255) below; TestSystemdModelMatchesRealTool checks
//     the model against the real tool on the machine the tests run on.
//
// Regenerate the README table with:
//
//	UPDATE_README=1 go test -run TestComparisonTable ./processor/virtualizationattributesprocessor

// systemdModel answers like `systemd-detect-virt` (plain: container first) and `--vm`.
func systemdModel(f virtdetect.FS, cpu virtdetect.CPUID) (plain, vm string) {
	vm = systemdVM(f, cpu)
	if c := systemdContainer(f); c != "none" {
		return c, vm
	}
	return vm, vm
}

func systemdContainer(f virtdetect.FS) string {
	if f.Exists("/proc/vz") && !f.Exists("/proc/bc") {
		return "openvz"
	}
	rel := f.ReadString("/proc/sys/kernel/osrelease")
	if strings.Contains(rel, "Microsoft") || strings.Contains(rel, "WSL") {
		return "wsl"
	}
	translate := func(v string) string {
		switch v {
		case "lxc", "lxc-libvirt", "systemd-nspawn", "docker", "podman", "rkt", "wsl", "proot", "pouch":
			return v
		}
		return "container-other"
	}
	if v := f.ReadString("/run/host/container-manager"); v != "" {
		return translate(v)
	}
	if b, err := f.ReadFile("/proc/1/environ"); err == nil {
		if v, ok := virtdetect.ParseEnviron(b)["container"]; ok && v != "" {
			return translate(v)
		}
	}
	if v := f.ReadString("/run/systemd/container"); v != "" {
		return translate(v)
	}
	if f.Exists("/run/.containerenv") {
		return "podman"
	}
	if f.Exists("/.dockerenv") {
		return "docker"
	}
	return "none"
}

var systemdDMI = []struct{ prefix, id string }{
	{"KVM", "kvm"}, {"OpenStack", "kvm"}, {"KubeVirt", "kvm"}, {"Amazon EC2", "amazon"}, {"QEMU", "qemu"},
	{"VMware", "vmware"}, {"VMW", "vmware"}, {"innotek GmbH", "oracle"}, {"VirtualBox", "oracle"},
	{"Oracle Corporation", "oracle"}, {"Xen", "xen"}, {"Bochs", "bochs"}, {"Parallels", "parallels"},
	{"BHYVE", "bhyve"}, {"Hyper-V", "microsoft"}, {"Apple Virtualization", "apple"}, {"Google Compute Engine", "google"},
}

var systemdCPUID = map[string]string{
	"XenVMMXenVMM": "xen", "KVMKVMKVM": "kvm", "Linux KVM Hv": "kvm", "TCGTCGTCGTCG": "qemu", "VMwareVMware": "vmware",
	"Microsoft Hv": "microsoft", "bhyve bhyve": "bhyve", "QNXQVMBSQG": "qnx", "ACRNACRNACRN": "acrn",
	"SRESRESRESRE": "sre", "Apple VZ": "apple",
}

func systemdVM(f virtdetect.FS, cpu virtdetect.CPUID) string {
	vendor, hasLeaf := cpu.HypervisorVendor()
	hvBit := hasLeaf || virtdetect.ReadCPUInfo(f).HypervisorFlag
	dmi := "none"
	d := virtdetect.ReadDMI(f)
	for _, v := range []string{d.ProductName, d.SysVendor, d.BoardVendor, d.BIOSVendor, d.ProductVersion} {
		if dmi != "none" {
			break
		}
		for _, r := range systemdDMI {
			if v != "" && strings.HasPrefix(v, r.prefix) {
				dmi = r.id
				break
			}
		}
	}
	if dmi == "amazon" && !hvBit {
		dmi = "none" // EC2 metal: no SMBIOS VM bit, no hypervisor CPUID
	}
	switch dmi {
	case "oracle", "xen", "amazon", "parallels", "google":
		return dmi
	}
	xenDom0 := false
	if f.Exists("/proc/xen") {
		x := virtdetect.ReadXen(f)
		if !x.Dom0 {
			return "xen"
		}
		xenDom0 = true
	}
	hypervEnlightened := false
	if hasLeaf {
		switch id := systemdCPUID[strings.Trim(vendor, "\x00 ")]; id {
		case "microsoft":
			hypervEnlightened = true
		case "":
		default:
			return id
		}
	}
	v := "none"
	switch {
	case xenDom0:
	case dmi != "none":
		v = dmi
	case f.ReadString("/sys/hypervisor/type") == "xen":
		v = "xen"
	case f.ReadString("/sys/hypervisor/type") != "":
		v = "vm-other"
	default:
		if dt := virtdetect.ReadDeviceTree(f); dt.Present {
			switch {
			case dt.HasCompatible("linux,kvm"):
				v = "kvm"
			case dt.HasCompatible("xen,xen"):
				v = "xen"
			case dt.HasCompatible("vmware"):
				v = "vmware"
			case dt.FWCfg:
				v = "qemu"
			}
		}
	}
	if v == "none" && hypervEnlightened {
		return "microsoft"
	}
	if v == "none" && hvBit && !xenDom0 {
		return "vm-other"
	}
	return v
}

// TestGopsutilChild is the child side of gopsutilOn; it does nothing in a normal run.
func TestGopsutilChild(t *testing.T) {
	if os.Getenv("GOPSUTIL_CHILD") != "1" {
		t.Skip("helper for TestComparisonTable")
	}
	system, role, err := host.Virtualization()
	require.NoError(t, err)
	fmt.Printf("GOPSUTIL=%s/%s\n", system, role)
}

func gopsutilOn(t *testing.T, root string) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestGopsutilChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOPSUTIL_CHILD=1",
		"HOST_PROC="+filepath.Join(root, "proc"), "HOST_SYS="+filepath.Join(root, "sys"),
		"HOST_ETC="+filepath.Join(root, "etc"), "HOST_ROOT="+root)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "GOPSUTIL="); ok {
			if v == "/" {
				return "(empty)"
			}
			return v
		}
	}
	t.Fatalf("no answer from the gopsutil child: %s", out)
	return ""
}

const (
	tableBegin = "<!-- comparison:begin (generated by TestComparisonTable) -->"
	tableEnd   = "<!-- comparison:end -->"
)

func TestComparisonTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs one child process per fixture; skipped with -short")
	}
	entries, err := os.ReadDir(fixturesDir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("| fixture | virtualization_attributes: `virtualization.layers` | isolation, role (confidence) | systemd-detect-virt (model) | `--vm` (model) | gopsutil `host.Virtualization()` |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, name := range names {
		root, _ := filepath.Abs(filepath.Join(fixturesDir, name, "root"))
		var cpu virtdetect.CPUID = virtdetect.NoCPUID
		if raw, err := os.ReadFile(filepath.Join(fixturesDir, name, "cpuid")); err == nil {
			cpu = virtdetect.FixedCPUID(strings.TrimRight(string(raw), "\n"))
		}
		f := virtdetect.NewFS(root)
		h := virtdetect.Detect(f, cpu)
		layers := strings.Join(h.LayerNames(), " > ")
		if layers == "" {
			layers = "(none)"
		}
		plain, vm := systemdModel(f, cpu)
		fmt.Fprintf(&b, "| %s | %s | %s, %s (%s) | %s | %s | %s |\n", name, layers, h.IsolationLevel, h.Role, h.Confidence, plain, vm, gopsutilOn(t, root))
	}
	table := b.String()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	start, end := bytes.Index(readme, []byte(tableBegin)), bytes.Index(readme, []byte(tableEnd))
	require.True(t, start >= 0 && end > start, "README.md must contain the comparison markers")
	current := string(readme[start+len(tableBegin)+1 : end])
	if os.Getenv("UPDATE_README") == "1" {
		out := append([]byte{}, readme[:start+len(tableBegin)+1]...)
		out = append(out, table...)
		out = append(out, readme[end:]...)
		require.NoError(t, os.WriteFile("README.md", out, 0o644))
		return
	}
	assert.Equal(t, table, current, "README comparison table is stale: rerun with UPDATE_README=1")
}

// TestSystemdModelMatchesRealTool checks the systemd model against the real systemd-detect-virt
// on this machine, so the README's derived column is not taken on faith.
func TestSystemdModelMatchesRealTool(t *testing.T) {
	path, err := exec.LookPath("systemd-detect-virt")
	if err != nil {
		t.Skip("systemd-detect-virt is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("the model reads /proc/1/environ like the tool does as root")
	}
	run := func(args ...string) string {
		out, _ := exec.Command(path, args...).Output()
		return strings.TrimSpace(string(out))
	}
	plain, vm := systemdModel(virtdetect.NewFS("/"), virtdetect.HostCPUID{})
	assert.Equal(t, run(), plain, "systemd-detect-virt")
	assert.Equal(t, run("--vm"), vm, "systemd-detect-virt --vm")
}
