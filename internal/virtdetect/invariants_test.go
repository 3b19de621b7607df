package virtdetect

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixtureInvariants holds every fixture root, captured or reconstructed, to what the kernel
// guarantees about the files detection reads, so that no fixture shows a machine that cannot
// exist.
func TestFixtureInvariants(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "hosts"))
	require.NoError(t, err)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "hosts", name)
			root := filepath.Join(dir, "root")
			checkNoEmptyDirectory(t, root)
			checkCPUIDAgreesWithCPUInfo(t, dir, root)
			checkACPIHeaders(t, root)
			checkProcesses(t, root)
			checkBusLinks(t, root)
			checkClocksource(t, root)
			checkXenRole(t, root)
			if raw, err := os.ReadFile(filepath.Join(root, "sys/firmware/dmi/entries/0-0/raw")); err == nil {
				// Entry 0-0 is the first structure of type 0 (BIOS information, DSP0134 7.1);
				// its formatted part is at least 0x12 bytes long.
				require.GreaterOrEqual(t, len(raw), 2)
				assert.Equal(t, byte(0), raw[0], "SMBIOS entry 0-0 is of type 0")
				assert.GreaterOrEqual(t, int(raw[1]), 0x12, "type 0 structure length")
				assert.LessOrEqual(t, int(raw[1]), len(raw), "the structure fits in the entry")
			}
		})
	}
}

// checkCPUIDAgreesWithCPUInfo: leaf 0x40000000 is defined only when CPUID.1:ECX[31] is set, which
// Linux shows as the "hypervisor" flag on x86 (X86_FEATURE_HYPERVISOR).
func checkCPUIDAgreesWithCPUInfo(t *testing.T, dir, root string) {
	t.Helper()
	vendor, err := os.ReadFile(filepath.Join(dir, "cpuid"))
	if err != nil {
		return
	}
	v := strings.TrimRight(string(vendor), "\n")
	assert.LessOrEqual(t, len(v), 12, "the vendor is three 32-bit registers")
	cpuinfo, err := os.ReadFile(filepath.Join(root, "proc/cpuinfo"))
	if err != nil {
		return
	}
	ci := ParseCPUInfo(cpuinfo)
	if x86 := strings.Contains(string(cpuinfo), "GenuineIntel") || strings.Contains(string(cpuinfo), "AuthenticAMD"); x86 && v != "" {
		assert.True(t, ci.HypervisorFlag, "a hypervisor leaf without the cpuinfo hypervisor flag")
	}
}

var acpiTableName = regexp.MustCompile(`^([A-Z0-9]{4})[0-9]*$`)

// checkACPIHeaders: a table's file is named by its signature (a number added for repeats,
// SSDT1), its length field covers at least the 36-byte header, and the file holds no more than
// the length (captures keep the header only).
func checkACPIHeaders(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "sys/firmware/acpi/tables")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		h, ok := ParseACPIHeader(b)
		if !assert.True(t, ok, "%s: shorter than an ACPI header", e.Name()) {
			continue
		}
		m := acpiTableName.FindStringSubmatch(e.Name())
		if assert.NotNil(t, m, "%s is no table name", e.Name()) {
			want := m[1]
			if want == "FACP" || h.Signature == "FACP" {
				want = "FACP" // the FADT's signature is FACP
			}
			assert.Equal(t, want, h.Signature, "%s: signature", e.Name())
		}
		assert.GreaterOrEqual(t, h.TableLength, uint32(36), "%s: length", e.Name())
		assert.LessOrEqual(t, uint32(len(b)), h.TableLength, "%s: more bytes than the table's length", e.Name())
	}
}

// checkProcesses: /proc/<pid>/status names its own pid, PID 1's parent is 0, a tracer and every
// parent named in a status exist, namespace links are of their own type, cgroup paths are
// absolute.
func checkProcesses(t *testing.T, root string) {
	t.Helper()
	proc := filepath.Join(root, "proc")
	entries, _ := os.ReadDir(proc)
	for _, e := range entries {
		pid := e.Name()
		if _, err := strconv.Atoi(pid); err != nil && pid != "self" {
			continue
		}
		pdir := filepath.Join(proc, pid)
		if b, err := os.ReadFile(filepath.Join(pdir, "status")); err == nil {
			st := ParseProcStatus(b)
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "Pid:"); ok && pid != "self" {
					assert.Equal(t, pid, strings.TrimSpace(v), "%s/status Pid", pid)
				}
			}
			if pid == "1" {
				assert.Equal(t, 0, st.PPid, "PID 1 has no parent")
			}
			for _, ref := range []int{st.PPid, st.TracerPid} {
				if ref > 1 {
					_, err := os.Stat(filepath.Join(proc, strconv.Itoa(ref)))
					assert.NoError(t, err, "%s/status names pid %d, which is not in the fixture", pid, ref)
				}
			}
		}
		links, _ := os.ReadDir(filepath.Join(pdir, "ns"))
		for _, l := range links {
			if l.Name() == keepFile {
				continue
			}
			target, err := os.Readlink(filepath.Join(pdir, "ns", l.Name()))
			if assert.NoError(t, err, "%s/ns/%s is a link", pid, l.Name()) {
				assert.True(t, strings.HasPrefix(target, l.Name()+":["), "%s/ns/%s -> %s", pid, l.Name(), target)
				assert.NotZero(t, ParseNamespaceLink(target), "%s/ns/%s -> %s", pid, l.Name(), target)
			}
		}
		if b, err := os.ReadFile(filepath.Join(pdir, "cgroup")); err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if line == "" {
					continue
				}
				f := strings.SplitN(line, ":", 3)
				if assert.Len(t, f, 3, "%s/cgroup line %q", pid, line) {
					assert.True(t, strings.HasPrefix(f[2], "/"), "%s/cgroup path %q", pid, f[2])
					if f[0] == "0" {
						assert.Empty(t, f[1], "%s/cgroup: the v2 line has no controllers", pid)
					}
				}
			}
		}
	}
}

var pciFunction = regexp.MustCompile(`^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`)

// checkBusLinks: bus device entries are links into /sys/devices named as their target; a
// virtio-pci device implies a PCI function; PCI ids are 16-bit hex.
func checkBusLinks(t *testing.T, root string) {
	t.Helper()
	for _, bus := range []string{"pci", "virtio"} {
		dir := filepath.Join(root, "sys/bus", bus, "devices")
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			target, err := os.Readlink(filepath.Join(dir, e.Name()))
			if !assert.NoError(t, err, "%s device %s is a link", bus, e.Name()) {
				continue
			}
			assert.True(t, strings.HasPrefix(target, "../../../devices/"), "%s -> %s", e.Name(), target)
			assert.Equal(t, e.Name(), filepath.Base(target), "%s -> %s", e.Name(), target)
			if bus == "pci" {
				assert.Regexp(t, pciFunction, e.Name())
				for _, id := range []string{"vendor", "device"} {
					if b, err := os.ReadFile(filepath.Join(dir, e.Name(), id)); err == nil {
						assert.Regexp(t, `^0x[0-9a-f]{4}$`, strings.TrimSpace(string(b)), "%s/%s", e.Name(), id)
					}
				}
			}
			if bus == "virtio" && VirtioTransport(target) == "pci" {
				_, err := os.Stat(filepath.Join(root, "sys/bus/pci"))
				assert.NoError(t, err, "virtio-pci device %s without a PCI bus", e.Name())
			}
		}
	}
}

// checkClocksource: the current clock source is one of the available ones.
func checkClocksource(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "sys/devices/system/clocksource/clocksource0")
	cur, err1 := os.ReadFile(filepath.Join(dir, "current_clocksource"))
	avail, err2 := os.ReadFile(filepath.Join(dir, "available_clocksource"))
	if err1 != nil || err2 != nil {
		return
	}
	assert.Contains(t, strings.Fields(string(avail)), strings.TrimSpace(string(cur)), "current clock source is available")
}

// checkXenRole: where both say it, /proc/xen/capabilities and the XENFEAT_dom0 bit agree.
func checkXenRole(t *testing.T, root string) {
	t.Helper()
	caps, err1 := os.ReadFile(filepath.Join(root, "proc/xen/capabilities"))
	feat, err2 := os.ReadFile(filepath.Join(root, "sys/hypervisor/properties/features"))
	if err1 != nil || err2 != nil {
		return
	}
	assert.Equal(t, strings.Contains(string(caps), "control_d"), ParseXenFeatures(string(feat)), "dom0 by capabilities and by features")
}
