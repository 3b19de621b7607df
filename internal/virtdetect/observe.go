package virtdetect

import "strings"

// Observations are the raw facts read from a root; Classify turns them into layers. Keeping the
// two apart makes classification a pure function that tests and fuzzing drive directly.
type Observations struct {
	CPUIDVendor          string
	CPUIDPresent         bool
	DMI                  DMI
	ACPI                 ACPITables
	Xen                  Xen
	Clocksources         Clocksources
	CPUInfo              CPUInfo
	DeviceTree           DeviceTree
	Cmdline              Cmdline
	Virtio               Virtio
	OSRelease            string // /proc/sys/kernel/osrelease
	ProcVersion          string // /proc/version
	GVisorMarker         bool   // /proc/gvisor/kernel_is_gvisor
	ProcModules          bool   // /proc/modules exists (gVisor has none)
	WSLInterop           bool   // binfmt_misc WSLInterop entry
	Mounts               []Mount
	InitEnv              map[string]string // PID 1's environment
	InitCgroup           []CgroupLine      // PID 1's cgroups
	SystemdContainer     string            // /run/systemd/container
	HostContainerManager string            // /run/host/container-manager
	ContainerEnv         string            // contents of /run/.containerenv ("" and ContainerEnvFile false when absent)
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
	o.ACPI = ReadACPITables(f)
	o.Xen = ReadXen(f)
	o.Clocksources = ReadClocksources(f)
	o.CPUInfo = ReadCPUInfo(f)
	o.DeviceTree = ReadDeviceTree(f)
	o.Cmdline = ParseCmdline(f.ReadString("/proc/cmdline"))
	o.Virtio = ReadVirtio(f)
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
	if b, err := f.ReadFile("/proc/1/environ"); err == nil {
		o.InitEnv = ParseEnviron(b)
	}
	if b, err := f.ReadFile("/proc/1/cgroup"); err == nil {
		o.InitCgroup = ParseProcCgroup(b)
	}
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

// gvisorFakeVersion is the fixed /proc/version gVisor reports for its 4.4.0 kernel.
const gvisorFakeVersion = "#1 SMP Sun Jan 10 15:06:54 PST 2016"

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
