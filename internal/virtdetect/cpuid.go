package virtdetect

import "strings"

// CPUID supplies the hypervisor vendor string of CPUID leaf 0x40000000 (EBX, ECX, EDX), which
// a hypervisor sets for its guests. ok is false when the leaf is not available (not x86, or the
// CPUID "hypervisor present" bit is clear).
type CPUID interface {
	HypervisorVendor() (vendor string, ok bool)
}

// FixedCPUID is a vendor string captured on another machine; "" means the leaf was absent.
type FixedCPUID string

// HypervisorVendor implements CPUID.
func (c FixedCPUID) HypervisorVendor() (string, bool) { return string(c), c != "" }

// NoCPUID is a CPUID without the hypervisor leaf (non-x86, or bare metal).
var NoCPUID CPUID = FixedCPUID("")

// cpuidHypervisors maps the 12-byte vendor signatures (NULs and spaces trimmed) to hypervisor
// names: systemd's vm_table (systemd/systemd src/basic/virt.c at
// 0099e5589762f2ef72d9c69b7e7032138d410979), with "SRESRESRESRE" left to "other" (no name of ours
// fits), plus VirtualBox's, the default vendor of its Hyper-V paravirtualization provider
// (VirtualBox/virtualbox src/VBox/VMM/VMMR3/GIMHv.cpp at 4908d8d1a85c75c0eefb6a4c5c8a9f07211ad8f1;
// its KVM provider says "KVMKVMKVM" and its minimal one leaves the leaf empty), and Parallels',
// which is closed source and absent from systemd's table: the two spellings are those other
// detectors list for it, and its DMI vendor names it in any case.
// "Microsoft Hv" is also shown by KVM/QEMU with Hyper-V enlightenments and by XenServer with
// Viridian on, so it is only taken as Hyper-V when DMI and Xen signals do not say otherwise.
var cpuidHypervisors = map[string]string{
	"KVMKVMKVM":    HypervisorKVM,
	"Linux KVM Hv": HypervisorKVM,
	"TCGTCGTCGTCG": HypervisorQEMUTCG,
	"XenVMMXenVMM": HypervisorXen,
	"Microsoft Hv": HypervisorHyperV,
	"VMwareVMware": HypervisorVMware,
	"VBoxVBoxVBox": HypervisorVirtualBox,
	"bhyve bhyve":  HypervisorBhyve,
	"lrpepyh  vr":  HypervisorParallels,
	"prl hyperv":   HypervisorParallels,
	"ACRNACRNACRN": HypervisorACRN,
	"QNXQVMBSQG":   HypervisorQNX,
	"Apple VZ":     HypervisorApple,
}

// ParseCPUIDVendor returns the hypervisor name for a leaf 0x40000000 vendor string.
func ParseCPUIDVendor(vendor string) (string, bool) {
	v := strings.Trim(vendor, "\x00 ")
	name, ok := cpuidHypervisors[v]
	return name, ok
}
