package virtdetect

// Layer kinds, outermost first.
const (
	KindHypervisor = "hypervisor" // the hardware hypervisor (kernel-level)
	KindVMM        = "vmm"        // the virtual machine monitor process (qemu, firecracker...)
	KindGuest      = "guest"      // a guest kernel managed for a container or distro (kata, wsl)
	KindSandbox    = "sandbox"    // a user-space kernel between the process and the kernel (gvisor)
	KindContainer  = "container"  // a container engine's namespaces and cgroups
)

// Hypervisor names (virtualization.hypervisor.name).
const (
	HypervisorKVM        = "kvm"
	HypervisorQEMUTCG    = "tcg" // QEMU's software emulation, no hardware virtualization
	HypervisorXen        = "xen"
	HypervisorHyperV     = "hyperv"
	HypervisorVMware     = "vmware"
	HypervisorVirtualBox = "virtualbox"
	HypervisorBhyve      = "bhyve"
	HypervisorParallels  = "parallels"
	HypervisorACRN       = "acrn"
	HypervisorQNX        = "qnx"
	HypervisorApple      = "apple"
	HypervisorNitro      = "nitro"
	// HypervisorOther is a hypervisor whose presence is certain (the CPUID hypervisor bit) but
	// whose product could not be identified.
	HypervisorOther = "other"
)

// VMM names (virtualization.vmm.name).
const (
	VMMQEMU            = "qemu"
	VMMFirecracker     = "firecracker"
	VMMCloudHypervisor = "cloud_hypervisor"
	VMMGCE             = "gce" // Google Compute Engine's own KVM-based VMM
)

// Guest, sandbox and container names.
const (
	GuestKata           = "kata"
	GuestWSL            = "wsl"
	SandboxGVisor       = "gvisor"
	ContainerDocker     = "docker"
	ContainerPodman     = "podman"
	ContainerContainerd = "containerd"
	ContainerCRIO       = "cri-o"
	ContainerLXC        = "lxc"
	ContainerNspawn     = "systemd-nspawn"
	ContainerOther      = "other"
)

// Isolation levels (virtualization.isolation.level), from the registry's vocabulary plus none.
const (
	IsolationNone      = "none"
	IsolationContainer = "container"
	IsolationSandbox   = "sandbox"
	IsolationMicroVM   = "microvm"
	IsolationVM        = "vm"
)

// Hypervisor types (virtualization.hypervisor.type).
const (
	// TypeBareMetal (type 1) runs on the hardware or as part of the host kernel (KVM, Xen,
	// Hyper-V, ESXi, Nitro, ACRN, bhyve).
	TypeBareMetal = "type1"
	// TypeHostedApp (type 2) runs as an application on a host OS using hardware virtualization
	// (VirtualBox, Parallels, Apple Virtualization.framework).
	TypeHostedApp = "type2"
	// TypeEmulated is software emulation without hardware virtualization (QEMU TCG).
	TypeEmulated = "hosted"
)

// Roles (virtualization.role).
const (
	RoleGuest = "guest"
	RoleHost  = "host" // no hypervisor above, able to run guests (/dev/kvm, vmx/svm)
	RoleDom0  = "dom0" // Xen's privileged domain
	RoleNone  = "none"
)

// Confidence of a layer or of the whole answer.
type Confidence string

// Confidence levels: high = two independent signal families agree, or one definitive one and a
// supporting one; medium = one signal family; low = only a generic hint.
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

func (c Confidence) rank() int {
	switch c {
	case ConfidenceHigh:
		return 3
	case ConfidenceMedium:
		return 2
	case ConfidenceLow:
		return 1
	}
	return 0
}

// HypervisorType returns the type of a hypervisor name, "" when unknown.
func HypervisorType(name string) string {
	switch name {
	case HypervisorKVM, HypervisorXen, HypervisorHyperV, HypervisorVMware, HypervisorNitro,
		HypervisorACRN, HypervisorBhyve, HypervisorQNX:
		return TypeBareMetal
	case HypervisorVirtualBox, HypervisorParallels, HypervisorApple:
		return TypeHostedApp
	case HypervisorQEMUTCG:
		return TypeEmulated
	}
	return ""
}
