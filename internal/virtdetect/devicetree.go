package virtdetect

import (
	"bytes"
	"strings"
)

// DeviceTree is what the flattened device tree (arm64, riscv, ppc guests) says about the machine.
type DeviceTree struct {
	Present bool
	// Compatible is the root node's compatible list ("linux,dummy-virt" for QEMU virt and Firecracker).
	Compatible []string
	// HypervisorCompatible is /hypervisor/compatible ("xen,xen", "linux,kvm", "vmware").
	HypervisorCompatible []string
	// FWCfg is set when a fw-cfg node exists: QEMU has one, Firecracker does not.
	FWCfg bool
}

// ParseCompatible splits a NUL-separated device tree string list.
func ParseCompatible(b []byte) []string {
	var out []string
	for _, s := range bytes.Split(b, []byte{0}) {
		if len(s) > 0 {
			out = append(out, string(s))
		}
	}
	return out
}

// ReadDeviceTree reads /proc/device-tree, falling back to /sys/firmware/devicetree/base.
func ReadDeviceTree(f FS) DeviceTree {
	base := "/proc/device-tree"
	if !f.Exists(base) {
		base = "/sys/firmware/devicetree/base"
		if !f.Exists(base) {
			return DeviceTree{}
		}
	}
	dt := DeviceTree{Present: true}
	if b, err := f.ReadFile(base + "/compatible"); err == nil {
		dt.Compatible = ParseCompatible(b)
	}
	if b, err := f.ReadFile(base + "/hypervisor/compatible"); err == nil {
		dt.HypervisorCompatible = ParseCompatible(b)
	}
	for _, n := range f.ReadDir(base) {
		if strings.HasPrefix(n, "fw-cfg") {
			dt.FWCfg = true
		}
	}
	return dt
}

// HasCompatible reports whether the root or hypervisor node lists c.
func (d DeviceTree) HasCompatible(c string) bool {
	for _, x := range d.Compatible {
		if x == c {
			return true
		}
	}
	for _, x := range d.HypervisorCompatible {
		if x == c {
			return true
		}
	}
	return false
}
