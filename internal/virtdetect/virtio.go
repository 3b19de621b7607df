package virtdetect

import "strings"

// Virtio summarises the virtio devices of a guest and how they are attached.
type Virtio struct {
	Devices int
	// MMIO and PCI count devices per transport: micro-VMs (Firecracker, QEMU microvm) use
	// virtio-mmio; full VMs and newer Firecracker/Cloud Hypervisor use virtio-pci.
	MMIO, PCI int
	// PCIHostBridge is the vendor:device of the PCI host bridge (00:00.0), "" if none.
	// 8086:0d57 is the bridge Firecracker and Cloud Hypervisor emulate; QEMU's q35 is 8086:29c0,
	// i440FX 8086:1237.
	PCIHostBridge string
	// PCIDevices counts /sys/bus/pci/devices; PCIBus says the kernel registered the PCI bus
	// (/sys/bus/pci exists), so that zero devices means "no PCI", not "sysfs not mounted".
	PCIDevices int
	PCIBus     bool
}

// VirtioTransport classifies one /sys/bus/virtio/devices symlink target.
func VirtioTransport(target string) string {
	switch {
	case strings.Contains(target, "virtio-mmio") || strings.Contains(target, ".virtio_mmio"):
		return "mmio"
	case strings.Contains(target, "/pci"):
		return "pci"
	case strings.Contains(target, "/ccw") || strings.Contains(target, "/css"):
		return "ccw"
	}
	return "other"
}

// ReadVirtio lists /sys/bus/virtio/devices and the PCI host bridge.
func ReadVirtio(f FS) Virtio {
	var v Virtio
	const dir = "/sys/bus/virtio/devices/"
	for _, n := range f.ReadDir(dir) {
		v.Devices++
		switch VirtioTransport(f.Readlink(dir + n)) {
		case "mmio":
			v.MMIO++
		case "pci":
			v.PCI++
		}
	}
	v.PCIBus = f.Exists("/sys/bus/pci")
	v.PCIDevices = len(f.ReadDir("/sys/bus/pci/devices"))
	const bridge = "/sys/bus/pci/devices/0000:00:00.0/"
	vendor, device := f.ReadString(bridge+"vendor"), f.ReadString(bridge+"device")
	if vendor != "" && device != "" {
		v.PCIHostBridge = strings.TrimPrefix(vendor, "0x") + ":" + strings.TrimPrefix(device, "0x")
	}
	return v
}
