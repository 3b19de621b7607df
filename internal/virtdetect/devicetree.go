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
	// PowerVM is set by the partition nodes a PowerVM LPAR has (ibm,partition-name and
	// hmc-managed?) without QEMU's chosen/qemu,graphic-width, as systemd's detect_vm_device_tree.
	PowerVM bool
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
		if strings.Contains(n, "fw-cfg") {
			dt.FWCfg = true
		}
	}
	dt.PowerVM = f.Exists(base+"/ibm,partition-name") && f.Exists(base+"/hmc-managed?") &&
		!f.Exists(base+"/chosen/qemu,graphic-width")
	return dt
}

// HypervisorNode returns the first /hypervisor/compatible string, "" when there is no node.
func (d DeviceTree) HypervisorNode() string {
	if len(d.HypervisorCompatible) == 0 {
		return ""
	}
	return d.HypervisorCompatible[0]
}

// HasRootCompatible reports whether the root node lists c.
func (d DeviceTree) HasRootCompatible(c string) bool {
	for _, x := range d.Compatible {
		if x == c {
			return true
		}
	}
	return false
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
