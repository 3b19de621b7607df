package virtdetect

import "strings"

// Hypervisor detection. The signal families follow systemd's detect_vm (systemd/systemd
// src/basic/virt.c at 0099e5589762f2ef72d9c69b7e7032138d410979): DMI vendor strings, the SMBIOS
// VM bit, Xen's interfaces, CPUID leaf 0x40000000, /sys/hypervisor/type, the device tree, UML's
// cpuinfo and s390's sysinfo. Where systemd stops at the first answer in a fixed order, every
// family votes here, so that a layer carries all the signals that agree on it.

// dmiRule maps a DMI string prefix to a hypervisor and/or VMM, as systemd's dmi_vendor_table.
type dmiRule struct {
	prefix     string
	hypervisor string
	vmm        string
	cloud      string
	// needsHypervisor: the prefix is also found on real hardware, so it counts only when the CPU
	// says a hypervisor is present ("Oracle Corporation" builds servers as well as VirtualBox).
	needsHypervisor bool
}

// dmiRules is systemd's dmi_vendor_table with VMM names added, and Cloud Hypervisor's SMBIOS
// manufacturer and product ("Cloud Hypervisor", "cloud-hypervisor": cloud-hypervisor/cloud-hypervisor
// arch/src/x86_64/smbios.rs at ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4). A bare "Google" is not here:
// Chromebooks and other coreboot machines say "Google" too; systemd matches only
// "Google Compute Engine".
var dmiRules = []dmiRule{
	{prefix: "Amazon EC2", hypervisor: HypervisorNitro, cloud: CloudAWS},
	{prefix: "Google Compute Engine", hypervisor: HypervisorKVM, vmm: VMMGCE, cloud: CloudGCP},
	{prefix: "Cloud Hypervisor", vmm: VMMCloudHypervisor},
	{prefix: "cloud-hypervisor", vmm: VMMCloudHypervisor},
	{prefix: "KubeVirt", hypervisor: HypervisorKVM, vmm: VMMQEMU},
	{prefix: "OpenStack", hypervisor: HypervisorKVM},
	{prefix: "KVM", hypervisor: HypervisorKVM},
	{prefix: "QEMU", vmm: VMMQEMU},
	{prefix: "Bochs", vmm: VMMQEMU},
	{prefix: "VMware", hypervisor: HypervisorVMware},
	{prefix: "VMW", hypervisor: HypervisorVMware},
	{prefix: "innotek GmbH", hypervisor: HypervisorVirtualBox},
	{prefix: "VirtualBox", hypervisor: HypervisorVirtualBox},
	{prefix: "Oracle Corporation", hypervisor: HypervisorVirtualBox, needsHypervisor: true},
	{prefix: "Xen", hypervisor: HypervisorXen},
	{prefix: "Parallels", hypervisor: HypervisorParallels},
	{prefix: "BHYVE", hypervisor: HypervisorBhyve},
	{prefix: "Hyper-V", hypervisor: HypervisorHyperV},
	{prefix: "Apple Virtualization", hypervisor: HypervisorApple},
}

// dmiMatch is one DMI field that matched a rule.
type dmiMatch struct {
	field, value string
	rule         dmiRule
}

func (m dmiMatch) evidence() string { return "dmi." + m.field + "=" + m.value }

// matchDMI applies the rules to each field in systemd's order (product_name first, to tell KVM
// from QEMU), first matching rule per field.
func matchDMI(d DMI) []dmiMatch {
	var out []dmiMatch
	for _, fv := range [...]struct{ field, value string }{
		{"product_name", d.ProductName}, {"sys_vendor", d.SysVendor}, {"board_vendor", d.BoardVendor},
		{"bios_vendor", d.BIOSVendor}, {"product_version", d.ProductVersion},
	} {
		if fv.value == "" {
			continue
		}
		for _, r := range dmiRules {
			if strings.HasPrefix(fv.value, r.prefix) {
				out = append(out, dmiMatch{field: fv.field, value: fv.value, rule: r})
				break
			}
		}
	}
	return out
}

// acpiRule is what an ACPI OEM id says. Tables are built by the firmware or the VMM, so ids only
// a VMM writes name it; ids also on real hardware (Amazon's metal firmware) only hint a cloud.
type acpiRule struct {
	hypervisor, vmm, cloud string
	strong                 bool
}

// acpiOEMs are the OEM ids VMMs write into their tables. Where the VMM is open source the id is
// taken from it; Hyper-V ("VRTUAL"), Parallels ("PRLS"), Amazon's and Google's firmware are
// closed, their ids are those of the tables the fixtures' ORIGIN.md cite.
var acpiOEMs = map[string]acpiRule{
	// Firecracker writes OEM_ID "FIRECK" into every table (firecracker-microvm/firecracker
	// src/vmm/src/acpi/mod.rs at 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab) and runs only on KVM.
	"FIRECK": {vmm: VMMFirecracker, hypervisor: HypervisorKVM},
	// cloud-hypervisor/cloud-hypervisor vmm/src/acpi.rs at ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4.
	"CLOUDH": {vmm: VMMCloudHypervisor},
	// ACPI_BUILD_APPNAME6 "BOCHS " (qemu/qemu include/hw/acpi/aml-build.h at
	// 0073518dd7232fb4da6331ea298589383d2d16cb), for every machine type, microvm included.
	"BOCHS": {vmm: VMMQEMU},
	// VirtualBox's DSDT and SSDTs (VirtualBox/virtualbox src/VBox/Devices/PC/*.dsl at
	// 4908d8d1a85c75c0eefb6a4c5c8a9f07211ad8f1).
	"VBOX":   {hypervisor: HypervisorVirtualBox, strong: true},
	"VRTUAL": {hypervisor: HypervisorHyperV, strong: true},
	// ACPI_OEM_ID "Xen" of hvmloader's tables (xen-project/xen tools/libacpi/acpi2_0.h at
	// 242a5f75eea221cd959b6573bff9417b6d27f2be).
	"Xen": {hypervisor: HypervisorXen, strong: true},
	// bhyve's basl writes "BHYVE " (freebsd/freebsd-src usr.sbin/bhyve/acpi.c at
	// 6af59f5fa6ea89599d31a32fff0118781c47e2de).
	"BHYVE":  {hypervisor: HypervisorBhyve, strong: true},
	"PRLS":   {hypervisor: HypervisorParallels, strong: true},
	"AMAZON": {cloud: CloudAWS},
	"Google": {cloud: CloudGCP},
}

const azureAssetTag = "7783-7084-3265-9085-8269-3286-77"

// hypervisorResult is the outermost layer and what follows from it.
type hypervisorResult struct {
	name         string
	votes        *votes
	role         string
	roleEvidence []string
	// present: something says this kernel runs virtualised even if no product is named.
	present bool
	xen     bool // a Xen domain (domU or dom0)
	cloud   string
	// cpuidName is what CPUID alone says, for the checks that need it.
	cpuidName string
}

// ec2Metal tells an EC2 bare-metal instance from a Nitro VM as systemd's detect_vm_dmi does:
// the SMBIOS VM bit when it can be read, else ".metal" in the product name ("m7g.metal",
// "c6i.metal-48xl").
func ec2Metal(o Observations) (metal bool, evidence string) {
	switch o.SMBIOSVM {
	case SMBIOSSet:
		return false, "smbios.vm_bit=set"
	case SMBIOSUnset:
		return true, "smbios.vm_bit=unset"
	}
	if _, after, ok := strings.Cut(o.DMI.ProductName, ".metal"); ok && (after == "" || after[0] == '-') {
		return true, "dmi.product_name=" + o.DMI.ProductName
	}
	return false, "dmi.product_name=" + o.DMI.ProductName + " (not .metal)"
}

func classifyHypervisor(o Observations, vmm *votes) hypervisorResult {
	r := hypervisorResult{votes: newVotes()}
	hyp := r.votes
	cpuidName, cpuidKnown := ParseCPUIDVendor(o.CPUIDVendor)
	cpuidEv := "cpuid=" + printable(o.CPUIDVendor)
	if o.CPUIDPresent {
		r.cpuidName = cpuidName
	}

	// Xen first: a Xen domain may show "Microsoft Hv" (Viridian) or, in PV mode nested in
	// another hypervisor, that hypervisor's CPUID. dom0 is the host's control domain, not a
	// guest: its Xen signals are not a layer around it (systemd reports dom0 as no VM and goes
	// on to CPUID to catch nesting).
	dtHyp := o.DeviceTree.HypervisorNode()
	r.xen = o.Xen.ProcXen || o.Xen.HypervisorType == "xen" || strings.Contains(dtHyp, "xen")
	dom0 := r.xen && o.Xen.Dom0
	if dom0 {
		r.role, r.roleEvidence = RoleDom0, []string{"xen.dom0"}
		if o.Xen.ProcXen {
			r.roleEvidence = append(r.roleEvidence, "proc.xen")
		}
	} else if r.xen {
		switch {
		case o.Xen.HypervisorType == "xen":
			hyp.add(HypervisorXen, true, "sys.hypervisor.type=xen")
		case o.Xen.ProcXen:
			hyp.add(HypervisorXen, true, "proc.xen")
		}
		if strings.Contains(dtHyp, "xen") {
			hyp.add(HypervisorXen, true, "devicetree.hypervisor="+dtHyp)
		}
		if o.Xen.GuestType != "" {
			hyp.add(HypervisorXen, false, "xen.guest_type="+o.Xen.GuestType)
		}
	}
	if t := o.Xen.HypervisorType; t != "" && t != "xen" {
		// Only "xen" is a name systemd trusts here; anything else is some hypervisor.
		hyp.add(HypervisorOther, false, "sys.hypervisor.type="+printable(t))
	}

	// CPUID: what the hypervisor says about itself.
	if o.CPUIDPresent {
		switch {
		case dom0 && cpuidName == HypervisorXen:
			// Xen's own leaf in its control domain.
		case cpuidKnown:
			hyp.add(cpuidName, true, cpuidEv)
			if cpuidName == HypervisorQEMUTCG {
				vmm.add(VMMQEMU, true, cpuidEv)
			}
		default:
			hyp.add(HypervisorOther, true, cpuidEv)
		}
	}

	// DMI, with EC2's metal instances told apart.
	hvBit := o.CPUIDPresent || (o.CPUInfo.HypervisorFlag && !dom0)
	dmiHyp := ""
	for _, m := range matchDMI(o.DMI) {
		rule := m.rule
		if rule.cloud != "" {
			r.cloud = rule.cloud
		}
		if rule.hypervisor == "" || rule.needsHypervisor && !hvBit || dom0 && rule.hypervisor == HypervisorXen {
			continue
		}
		ev := m.evidence()
		if rule.hypervisor == HypervisorNitro {
			metal, why := ec2Metal(o)
			if metal && !o.CPUIDPresent {
				r.roleEvidence = append(r.roleEvidence, ev, why)
				continue
			}
			ev += "+" + why
		}
		hyp.add(rule.hypervisor, true, ev)
		if dmiHyp == "" {
			dmiHyp = rule.hypervisor
		}
	}
	if strings.HasPrefix(o.DMI.SysVendor, "Microsoft Corporation") && strings.HasPrefix(o.DMI.ProductName, "Virtual Machine") {
		hyp.add(HypervisorHyperV, true, "dmi.product_name="+o.DMI.ProductName)
		dmiHyp = HypervisorHyperV
	}
	if dmiHyp == "" && o.SMBIOSVM == SMBIOSSet && !hyp.has(HypervisorNitro) {
		// The firmware says "virtual machine" but no vendor string names it (systemd: vm-other).
		hyp.add(HypervisorOther, true, "smbios.vm_bit=set")
	}
	switch o.DMI.ChassisAssetTag {
	case azureAssetTag:
		r.cloud = CloudAzure
	case "OracleCloud.com":
		r.cloud = CloudOracle
	}

	// ACPI OEM ids (root-only on most hosts).
	for _, id := range o.ACPI.OEMIDs() {
		a, ok := acpiOEMs[id]
		if !ok {
			continue
		}
		ev := "acpi.oem=" + id
		if a.cloud != "" && r.cloud == "" && (hvBit || a.cloud == CloudAWS) {
			r.cloud = a.cloud // "Google" alone is also on coreboot hardware: only with a hypervisor
		}
		if dom0 && a.hypervisor == HypervisorXen {
			continue
		}
		hyp.add(a.hypervisor, a.strong, ev)
		vmm.add(a.vmm, true, ev)
	}

	// Paravirtual clock sources.
	switch {
	case o.Clocksources.Has("kvm-clock"):
		hyp.add(HypervisorKVM, false, "clocksource=kvm-clock")
	case o.Clocksources.HasPrefix("hyperv_clocksource"):
		hyp.add(HypervisorHyperV, false, "clocksource=hyperv_clocksource")
	case o.Clocksources.Has("xen") && !dom0:
		hyp.add(HypervisorXen, false, "clocksource=xen")
	}

	// Device tree (arm64, ppc, riscv), as systemd's detect_vm_device_tree.
	dt := o.DeviceTree
	switch {
	case dtHyp == "linux,kvm":
		hyp.add(HypervisorKVM, true, "devicetree.hypervisor=linux,kvm")
	case strings.Contains(dtHyp, "xen"):
	case strings.Contains(dtHyp, "vmware"):
		hyp.add(HypervisorVMware, true, "devicetree.hypervisor="+dtHyp)
	case dtHyp != "":
		hyp.add(HypervisorOther, true, "devicetree.hypervisor="+printable(dtHyp))
	case dt.PowerVM:
		hyp.add(HypervisorPowerVM, true, "devicetree=ibm,partition-name+hmc-managed")
	}
	if dt.FWCfg {
		r.present = true
		vmm.add(VMMQEMU, true, "devicetree=fw-cfg")
	}
	if dt.HasRootCompatible("qemu,pseries") {
		r.present = true
		vmm.add(VMMQEMU, true, "devicetree.compatible=qemu,pseries")
	}
	if dt.HasRootCompatible("linux,dummy-virt") || o.Cmdline.Has("virtio_mmio.device") || o.Virtio.Devices > 0 {
		r.present = true
	}

	// UML and z/VM.
	if strings.HasPrefix(o.CPUInfo.VendorID, "User Mode Linux") {
		hyp.add(HypervisorUML, true, "cpuinfo.vendor_id="+o.CPUInfo.VendorID)
	}
	switch cp := o.SysInfoControlProgram; {
	case cp == "z/VM":
		hyp.add(HypervisorZVM, true, "sysinfo.control_program=z/VM")
	case cp != "":
		hyp.add(HypervisorKVM, true, "sysinfo.control_program="+printable(cp))
	}

	// CPU model names QEMU gives its default CPUs.
	if m := o.CPUInfo.ModelName; strings.Contains(m, "QEMU Virtual CPU") || strings.Contains(m, "Common KVM processor") {
		vmm.add(VMMQEMU, false, "cpuinfo.model="+m)
	}

	// WSL2 is a Hyper-V utility VM.
	if wsl2(o) {
		hyp.add(HypervisorHyperV, false, "osrelease="+o.OSRelease)
	}

	r.name = r.decide(o, dmiHyp, vmm, hvBit, dom0)
	if r.role == "" {
		switch {
		case r.name != "":
			r.role = RoleGuest
		case o.DevKVM || o.CPUInfo.VirtFlags:
			r.role = RoleHost
			if o.DevKVM {
				r.roleEvidence = append(r.roleEvidence, "dev.kvm")
			}
			if o.CPUInfo.VirtFlags {
				r.roleEvidence = append(r.roleEvidence, "cpuinfo.flags=vmx|svm")
			}
		default:
			r.role = RoleNone
		}
	}
	return r
}

// decide picks the hypervisor from the votes, with the known ambiguities resolved.
func (r *hypervisorResult) decide(o Observations, dmiHyp string, vmm *votes, hvBit, dom0 bool) string {
	hyp := r.votes
	name := hyp.best()
	switch {
	case r.xen && !dom0:
		return HypervisorXen // Xen with Viridian shows "Microsoft Hv" in CPUID
	case r.cpuidName == HypervisorHyperV && (dmiHyp == HypervisorKVM || vmm.best() == VMMQEMU || o.Clocksources.Has("kvm-clock")):
		hyp.add(HypervisorKVM, true, "cpuid=Microsoft Hv+kvm-signals") // KVM with Hyper-V enlightenments
		return HypervisorKVM
	case r.cpuidName == HypervisorKVM && hyp.strong[HypervisorNitro] != nil:
		hyp.add(HypervisorNitro, true, "cpuid=KVMKVMKVM") // Nitro is KVM-based and says KVMKVMKVM
		return HypervisorNitro
	}
	if name == HypervisorOther && len(hyp.strong[HypervisorOther]) == 0 {
		// Only weak hints of "some hypervisor": a named one with weak votes is better.
		for _, n := range []string{HypervisorKVM, HypervisorHyperV} {
			if hyp.has(n) {
				name = n
			}
		}
	}
	if name == "" {
		if v := vmm.best(); v == VMMFirecracker || v == VMMCloudHypervisor {
			// Firecracker only runs on KVM; Cloud Hypervisor on KVM or MSHV ("Microsoft Hv").
			hyp.add(HypervisorKVM, false, "vmm="+v)
			return HypervisorKVM
		}
	}
	if name == "" && !dom0 && (hvBit || r.present) {
		ev := "cpuinfo.flags=hypervisor"
		if !hvBit {
			ev = "virtual-devices"
		}
		hyp.add(HypervisorOther, false, ev)
		return HypervisorOther
	}
	return name
}

// printable keeps evidence values readable: what a VMM writes is untrusted.
func printable(s string) string {
	s = strings.Trim(s, "\x00 ")
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b = append(b, c)
		} else {
			b = append(b, '?')
		}
	}
	return string(b)
}
