package virtdetect

// VMM detection. A VMM is named only by a signal that names it: a DMI string it writes, an ACPI
// OEM id, QEMU's fw-cfg device or TCG's CPUID leaf. The shape of a micro-VM (virtio-mmio
// devices, no DMI, an FDT "linux,dummy-virt" without fw-cfg, Firecracker's PCI host bridge) is
// what Firecracker, crosvm, kvmtool, Cloud Hypervisor and QEMU's microvm machine all produce, so
// alone it gives "unknown" with low confidence, never a product name.

// vmmSignals adds the naming votes that come from DMI (the ACPI, CPUID and device-tree ones are
// added by classifyHypervisor, which reads those files).
func vmmSignals(o Observations, vmm *votes) {
	for _, m := range matchDMI(o.DMI) {
		vmm.add(m.rule.vmm, true, m.evidence())
	}
}

// microVMShape lists what says "micro-VM" without naming a product, under the hypervisor found.
func microVMShape(o Observations, hypervisor string) []string {
	var shape []string
	noDMI := o.DMI.Empty()
	if o.DeviceTree.HasRootCompatible("linux,dummy-virt") && !o.DeviceTree.FWCfg {
		shape = append(shape, "devicetree.compatible=linux,dummy-virt,no-fw-cfg")
	}
	if noDMI && o.Cmdline.Has("virtio_mmio.device") {
		shape = append(shape, "cmdline=virtio_mmio.device,no-dmi")
	}
	if noDMI && o.Virtio.MMIO > 0 && !o.DeviceTree.FWCfg {
		shape = append(shape, "virtio.transport=mmio,no-dmi")
	}
	if noDMI && o.Virtio.PCIHostBridge == "8086:0d57" {
		// The PCIe host bridge Firecracker and Cloud Hypervisor emulate (DEVICE_ID_INTEL_VIRT_PCIE_HOST
		// in firecracker-microvm/firecracker src/vmm/src/pci/bus.rs at
		// 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab and cloud-hypervisor/cloud-hypervisor
		// pci/src/bus.rs at ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4).
		shape = append(shape, "pci.host_bridge=8086:0d57,no-dmi")
	}
	if o.Virtio.PCIBus && o.Virtio.PCIDevices == 0 && o.CPUIDPresent &&
		(hypervisor == HypervisorKVM || hypervisor == HypervisorQEMUTCG) {
		// An x86 KVM or TCG machine without a single PCI device: QEMU's pc and q35 machines
		// always have a host bridge (and Firecracker and Cloud Hypervisor theirs); QEMU's microvm
		// machine and Firecracker without PCI have none. Only there: Xen PV guests, Hyper-V's
		// VMBus guests, s390 and POWER partitions have no PCI device either, and are no micro-VMs.
		shape = append(shape, "pci=none")
	}
	return shape
}

// vmmLayer returns the VMM layer under a detected hypervisor, and whether the machine has a
// micro-VM's shape.
func vmmLayer(o Observations, hypervisor string, vmm *votes) (Layer, bool, bool) {
	shape := microVMShape(o, hypervisor)
	if hypervisor == "" || hypervisor == HypervisorVirtualBox || hypervisor == HypervisorVMware ||
		hypervisor == HypervisorParallels || hypervisor == HypervisorUML {
		// These products are their own VMM; a second layer would repeat the first.
		return Layer{}, false, false
	}
	if name := vmm.best(); name != "" {
		// A named VMM with a micro-VM's shape (QEMU's microvm machine) is a micro-VM too; the
		// shape is kept as supporting evidence.
		for _, s := range shape {
			vmm.add(name, false, s)
		}
		micro := name == VMMFirecracker || name == VMMCloudHypervisor || len(shape) > 0
		return vmm.layer(KindVMM, name), micro, true
	}
	if len(shape) == 0 {
		return Layer{}, false, false
	}
	return Layer{Kind: KindVMM, Name: VMMUnknown, Confidence: ConfidenceLow, Evidence: shape}, true, true
}
