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
//   - systemd-detect-virt has no root option: on the live fixtures its column is the real tool's
//     answer recorded in the environment itself; on reconstructed ones it is derived by
//     re-implementing src/basic/virt.c (systemd/systemd at 0099e5589762f2ef72d9c69b7e7032138d410979)
//     below, checked against the real tool on this machine and on every live capture.
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
	if systemdProot(f) {
		return "proot"
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
	if systemdCgroupNS(f) {
		return "container-other"
	}
	return "none"
}

// systemdCgroupNS is running_in_cgroupns.
func systemdCgroupNS(f virtdetect.FS) bool {
	if f.Exists("/sys/fs/cgroup/cgroup.controllers") {
		return f.Exists("/sys/fs/cgroup/cgroup.events") && (f.Exists("/sys/fs/cgroup/cgroup.type") || !f.Exists("/sys/kernel/cgroup/features"))
	}
	return f.Exists("/sys/fs/cgroup/systemd") && !f.Exists("/sys/fs/cgroup/systemd/release_agent")
}

// systemdProot is detect_container's TracerPid check.
func systemdProot(f virtdetect.FS) bool {
	st := virtdetect.ParseProcStatus([]byte(f.ReadString("/proc/self/status")))
	return st.TracerPid > 0 && strings.HasPrefix(f.ReadString(fmt.Sprintf("/proc/%d/comm", st.TracerPid)), "proot")
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
	smbios := virtdetect.ReadSMBIOSVMBit(f)
	if dmi == "amazon" {
		switch smbios {
		case virtdetect.SMBIOSUnset:
			dmi = "none"
		case virtdetect.SMBIOSUnknown:
			if _, after, ok := strings.Cut(d.ProductName, ".metal"); ok && (after == "" || after[0] == '-') {
				dmi = "none"
			}
		}
	}
	if dmi == "none" && smbios == virtdetect.SMBIOSSet {
		dmi = "vm-other"
	}
	switch dmi {
	case "oracle", "xen", "amazon", "parallels", "google":
		return dmi
	}
	if strings.HasPrefix(virtdetect.ReadCPUInfo(f).VendorID, "User Mode Linux") {
		return "uml"
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
	other := false
	if dmi == "vm-other" {
		other, dmi = true, "none"
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
			hv := dt.HypervisorNode()
			switch {
			case hv == "linux,kvm":
				v = "kvm"
			case strings.Contains(hv, "xen"):
				v = "xen"
			case strings.Contains(hv, "vmware"):
				v = "vmware"
			case hv != "":
				v = "vm-other"
			case dt.PowerVM:
				v = "powervm"
			case dt.FWCfg, dt.HasRootCompatible("qemu,pseries"):
				v = "qemu"
			}
		}
		if v == "none" {
			if cp := virtdetect.ParseSysInfoControlProgram([]byte(f.ReadString("/proc/sysinfo"))); cp == "z/VM" {
				v = "zvm"
			} else if cp != "" {
				v = "kvm"
			}
		}
	}
	if v == "vm-other" {
		other, v = true, "none"
	}
	if v == "none" && hypervEnlightened {
		return "microsoft"
	}
	if v == "none" && (hvBit && !xenDom0 || other) {
		return "vm-other"
	}
	return v
}

// TestMain also serves as the child side of gopsutilOn: gopsutil caches its answer
// process-wide, so each fixture is asked in a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("GOPSUTIL_CHILD") == "1" {
		system, role, err := host.Virtualization()
		if err != nil {
			fmt.Println("GOPSUTIL-ERROR", err)
			os.Exit(1)
		}
		fmt.Printf("GOPSUTIL=%s/%s\n", system, role)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func gopsutilOn(t *testing.T, root string) string {
	cmd := exec.Command(os.Args[0])
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
	b.WriteString("| fixture | virtualization_attributes: `virtualization.layers` | isolation, role (confidence) | systemd-detect-virt | `--vm` | systemd answer | gopsutil `host.Virtualization()` |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
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
		src := "model"
		if real := realSystemdAnswers(filepath.Join(fixturesDir, name)); real != nil {
			plain, vm, src = real["plain"], real["vm"], "**real**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s, %s (%s) | %s | %s | %s | %s |\n", name, layers, h.IsolationLevel, h.Role, h.Confidence, plain, vm, src, gopsutilOn(t, root))
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

// realSystemdAnswers reads what the real systemd-detect-virt said where a live fixture was
// captured (the live tests run it in the same environment), nil when it did not run there.
func realSystemdAnswers(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "systemd-detect-virt"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			out[k] = v
		}
	}
	return out
}

// TestSystemdModelMatchesLiveCaptures checks the model against the real tool's answers recorded
// in every live fixture, so the model's column for reconstructed fixtures is not taken on faith.
func TestSystemdModelMatchesLiveCaptures(t *testing.T) {
	entries, err := os.ReadDir(fixturesDir)
	require.NoError(t, err)
	checked := 0
	for _, e := range entries {
		dir := filepath.Join(fixturesDir, e.Name())
		real := realSystemdAnswers(dir)
		if real == nil {
			continue
		}
		root, _ := filepath.Abs(filepath.Join(dir, "root"))
		var cpu virtdetect.CPUID = virtdetect.NoCPUID
		if raw, err := os.ReadFile(filepath.Join(dir, "cpuid")); err == nil {
			cpu = virtdetect.FixedCPUID(strings.TrimRight(string(raw), "\n"))
		}
		plain, vm := systemdModel(virtdetect.NewFS(root), cpu)
		assert.Equal(t, real["plain"], plain, "%s: systemd-detect-virt", e.Name())
		assert.Equal(t, real["vm"], vm, "%s: systemd-detect-virt --vm", e.Name())
		checked++
	}
	assert.NotZero(t, checked, "the live fixtures record the real tool's answers")
}

// TestSystemdModelMatchesRealTool checks the systemd model against the real systemd-detect-virt
// on this machine, so the README's derived column is not taken on faith.
func TestSystemdModelMatchesRealTool(t *testing.T) {
	path, err := exec.LookPath("systemd-detect-virt")
	if err != nil {
		t.Skip("systemd-detect-virt is not installed (Debian package systemd)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the model reads /proc/1/environ as the tool does when run as root")
	}
	run := func(args ...string) string {
		out, _ := exec.Command(path, args...).Output()
		return strings.TrimSpace(string(out))
	}
	plain, vm := systemdModel(virtdetect.NewFS("/"), virtdetect.HostCPUID{})
	assert.Equal(t, run(), plain, "systemd-detect-virt")
	assert.Equal(t, run("--vm"), vm, "systemd-detect-virt --vm")
}
