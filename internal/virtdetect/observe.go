package virtdetect

import "strings"

// Observations are the raw facts read from a root; Classify turns them into layers. Keeping the
// two apart makes classification a pure function that tests and fuzzing drive directly.
type Observations struct {
	CPUIDVendor  string
	CPUIDPresent bool
	DMI          DMI
	// SMBIOSVM is the "virtual machine" bit of the SMBIOS BIOS characteristics (root-only).
	SMBIOSVM     SMBIOSBit
	ACPI         ACPITables
	Xen          Xen
	Clocksources Clocksources
	CPUInfo      CPUInfo
	DeviceTree   DeviceTree
	Cmdline      Cmdline
	Virtio       Virtio
	// SysInfoControlProgram is s390's /proc/sysinfo "VM00 Control Program" (z/VM or KVM/Linux).
	SysInfoControlProgram string
	OSRelease             string // /proc/sys/kernel/osrelease
	ProcVersion           string // /proc/version
	GVisorMarker          bool   // /proc/gvisor/kernel_is_gvisor
	ProcModules           bool   // /proc/modules exists (gVisor has none)
	WSLInterop            bool   // binfmt_misc WSLInterop entry
	Mounts                []Mount

	Init Process // PID 1 of the root
	Self Process // the process doing the detection (the collector)
	// Ancestors are the comm names of Self's parents up to PID 1, nearest first.
	Ancestors []string
	// TracerComm is the comm of the process tracing Self (proot runs its guest under ptrace).
	TracerComm string
	// PIDNamespace and CgroupNamespace are the inode numbers of the namespaces of PID 1 (or of
	// Self when PID 1's are unreadable), 0 when unknown.
	PIDNamespace, CgroupNamespace uint64
	// CgroupNSHint is systemd's test for a cgroup namespace: the cgroup file system mounted at
	// /sys/fs/cgroup is not the root cgroup.
	CgroupNSHint bool

	SystemdContainer     string // /run/systemd/container
	HostContainerManager string // /run/host/container-manager
	ContainerEnv         string // contents of /run/.containerenv ("" and ContainerEnvFile false when absent)
	ContainerEnvFile     bool
	DockerEnv            bool // /.dockerenv
	K8sServiceAccount    bool // /var/run/secrets/kubernetes.io/serviceaccount
	DevKVM               bool // /dev/kvm
	ProcVZ, ProcBC       bool // OpenVZ
}

// Observe reads every signal below the root of f. It never fails: what cannot be read is absent.
func Observe(f FS, cpu CPUID) Observations {
	var o Observations
	if cpu != nil {
		o.CPUIDVendor, o.CPUIDPresent = cpu.HypervisorVendor()
	}
	o.DMI = ReadDMI(f)
	o.SMBIOSVM = ReadSMBIOSVMBit(f)
	o.ACPI = ReadACPITables(f)
	o.Xen = ReadXen(f)
	o.Clocksources = ReadClocksources(f)
	o.CPUInfo = ReadCPUInfo(f)
	o.DeviceTree = ReadDeviceTree(f)
	o.Cmdline = ParseCmdline(f.ReadString("/proc/cmdline"))
	o.Virtio = ReadVirtio(f)
	if b, err := f.ReadFile("/proc/sysinfo"); err == nil {
		o.SysInfoControlProgram = ParseSysInfoControlProgram(b)
	}
	o.OSRelease = f.ReadString("/proc/sys/kernel/osrelease")
	o.ProcVersion = f.ReadString("/proc/version")
	o.GVisorMarker = f.Exists("/proc/gvisor/kernel_is_gvisor")
	o.ProcModules = f.Exists("/proc/modules")
	o.WSLInterop = f.Exists("/proc/sys/fs/binfmt_misc/WSLInterop") || f.Exists("/proc/sys/fs/binfmt_misc/WSLInterop-late")
	if b, err := f.ReadFile("/proc/1/mounts"); err == nil {
		o.Mounts = ParseMounts(b)
	} else if b, err := f.ReadFile("/proc/mounts"); err == nil {
		o.Mounts = ParseMounts(b)
	}
	o.Init = ReadProcess(f, "1")
	o.Self = ReadProcess(f, "self")
	o.Ancestors, o.TracerComm = readAncestry(f)
	o.PIDNamespace = namespaceInode(f, "pid")
	o.CgroupNamespace = namespaceInode(f, "cgroup")
	o.CgroupNSHint = cgroupNamespaceHint(f)
	o.SystemdContainer = f.ReadString("/run/systemd/container")
	o.HostContainerManager = f.ReadString("/run/host/container-manager")
	if b, err := f.ReadFile("/run/.containerenv"); err == nil {
		o.ContainerEnvFile, o.ContainerEnv = true, string(b)
	} else if exists, _ := f.readable("/run/.containerenv"); exists {
		o.ContainerEnvFile = true
	}
	o.DockerEnv = f.Exists("/.dockerenv")
	o.K8sServiceAccount = f.Exists("/var/run/secrets/kubernetes.io/serviceaccount") || f.Exists("/run/secrets/kubernetes.io/serviceaccount")
	o.DevKVM = f.Exists("/dev/kvm")
	o.ProcVZ, o.ProcBC = f.Exists("/proc/vz"), f.Exists("/proc/bc")
	return o
}

// KernelRelease is the running kernel's release: osrelease, or the third word of /proc/version
// where osrelease is missing (gVisor has no /proc/sys/kernel/osrelease).
func (o Observations) KernelRelease() string {
	if o.OSRelease != "" {
		return o.OSRelease
	}
	if f := strings.Fields(o.ProcVersion); len(f) >= 3 && f[0] == "Linux" && f[1] == "version" {
		return f[2]
	}
	return ""
}

// RootMount returns the mount at "/" (the last one, as later mounts hide earlier ones).
func (o Observations) RootMount() (Mount, bool) {
	var m Mount
	ok := false
	for _, x := range o.Mounts {
		if x.Target == "/" {
			m, ok = x, true
		}
	}
	return m, ok
}

// gvisorFakeVersion is the fixed /proc/version gVisor reports for its 4.4.0 kernel.
const gvisorFakeVersion = "#1 SMP Sun Jan 10 15:06:54 PST 2016"

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
