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
	HypervisorPowerVM    = "powervm"
	HypervisorZVM        = "zvm"
	// HypervisorUML is User-Mode Linux: a Linux kernel running as a process of another one.
	HypervisorUML = "uml"
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
	// VMMUnknown is a VMM whose machine shape is seen (virtio-mmio, no DMI, an FDT without
	// fw-cfg: a micro-VM) but that no signal names: Firecracker, crosvm, kvmtool, QEMU microvm
	// and Cloud Hypervisor all build such machines.
	VMMUnknown = "unknown"
)

// Guest, sandbox and container names.
const (
	GuestKata = "kata"
	GuestWSL  = "wsl"
	// GuestEdera is an Edera (krata) zone: a Xen PV guest whose PID 1 is the zone init.
	GuestEdera          = "edera"
	SandboxGVisor       = "gvisor"
	ContainerDocker     = "docker"
	ContainerPodman     = "podman"
	ContainerContainerd = "containerd"
	ContainerCRIO       = "cri-o"
	ContainerLXC        = "lxc"
	ContainerNspawn     = "systemd-nspawn"
	ContainerOpenVZ     = "openvz"
	ContainerProot      = "proot"
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
	// TypeEmulated is software emulation without hardware virtualization (QEMU TCG). It is not
	// called "hosted", which is the usual name of type 2.
	TypeEmulated = "emulated"
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
		HypervisorACRN, HypervisorBhyve, HypervisorQNX, HypervisorPowerVM, HypervisorZVM:
		return TypeBareMetal
	case HypervisorVirtualBox, HypervisorParallels, HypervisorApple, HypervisorUML:
		return TypeHostedApp
	case HypervisorQEMUTCG:
		return TypeEmulated
	}
	return ""
}

// Semantic-conventions cloud.provider and cloud.platform values (semconv v1.44 cloud registry).
const (
	CloudAWS         = "aws"
	CloudGCP         = "gcp"
	CloudAzure       = "azure"
	CloudOracle      = "oracle_cloud"
	PlatformAWSEC2   = "aws_ec2"
	PlatformGCE      = "gcp_compute_engine"
	PlatformAzureVM  = "azure.vm"
	PlatformOracleVM = "oracle_cloud_compute"
)

// cloudPlatform is the compute platform of a provider when the machine itself is its VM or
// bare-metal instance.
func cloudPlatform(provider string) string {
	switch provider {
	case CloudAWS:
		return PlatformAWSEC2
	case CloudGCP:
		return PlatformGCE
	case CloudAzure:
		return PlatformAzureVM
	case CloudOracle:
		return PlatformOracleVM
	}
	return ""
}
