package virtdetect

import (
	"sort"
	"strings"
)

// Layer is one isolation layer around the process.
type Layer struct {
	Kind       string
	Name       string
	Confidence Confidence
	// Evidence lists the signals that named this layer, as "source=value".
	Evidence []string
}

// String renders the layer as "kind:name", the form used in virtualization.layers.
func (l Layer) String() string { return l.Kind + ":" + l.Name }

// Host is the answer for the machine (or container) the detection ran in.
type Host struct {
	// Layers are ordered outermost (hypervisor) to innermost (container).
	Layers []Layer

	HypervisorName string
	HypervisorType string
	VMMName        string
	Role           string
	// Cloud is the semantic-conventions cloud.provider the DMI strings name (aws, gcp, azure,
	// oracle_cloud), "" when none.
	Cloud string
	// IsolationLevel is the strongest boundary around the process: vm or microvm if any
	// hardware-virtualised layer exists, else sandbox, else container, else none.
	IsolationLevel      string
	IsolationTechnology string
	ContainerRuntime    string
	Orchestrator        string
	// KernelRelease is the running kernel's release (/proc/sys/kernel/osrelease).
	KernelRelease string
	// Confidence is the weakest confidence of the layers (high when there are none and the CPU
	// flags could be read, medium otherwise).
	Confidence Confidence
}

// LayerNames returns the layers as "kind:name" strings.
func (h Host) LayerNames() []string {
	out := make([]string, len(h.Layers))
	for i, l := range h.Layers {
		out[i] = l.String()
	}
	return out
}

// Detect observes the root of f and classifies it.
func Detect(f FS, cpu CPUID) Host { return Classify(Observe(f, cpu)) }

// dmiRule maps a DMI string prefix to a hypervisor and/or VMM, as systemd's dmi_vendor_table.
type dmiRule struct {
	prefix     string
	hypervisor string
	vmm        string
	cloud      string
}

var dmiRules = []dmiRule{
	{prefix: "Amazon EC2", hypervisor: HypervisorNitro, cloud: "aws"},
	{prefix: "Google Compute Engine", hypervisor: HypervisorKVM, vmm: VMMGCE, cloud: "gcp"},
	{prefix: "Google", hypervisor: HypervisorKVM, vmm: VMMGCE, cloud: "gcp"},
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
	{prefix: "Oracle Corporation", hypervisor: HypervisorVirtualBox},
	{prefix: "Xen", hypervisor: HypervisorXen},
	{prefix: "Parallels", hypervisor: HypervisorParallels},
	{prefix: "BHYVE", hypervisor: HypervisorBhyve},
	{prefix: "Hyper-V", hypervisor: HypervisorHyperV},
	{prefix: "Apple Virtualization", hypervisor: HypervisorApple},
}

// acpiOEMs maps ACPI OEM ids written by VMMs.
var acpiOEMs = map[string]dmiRule{
	"FIRECK": {vmm: VMMFirecracker, hypervisor: HypervisorKVM},
	"CLOUDH": {vmm: VMMCloudHypervisor},
	"BOCHS":  {vmm: VMMQEMU},
	"VBOX":   {hypervisor: HypervisorVirtualBox},
	"AMAZON": {hypervisor: HypervisorNitro, cloud: "aws"},
	"Google": {hypervisor: HypervisorKVM, vmm: VMMGCE, cloud: "gcp"},
	"VRTUAL": {hypervisor: HypervisorHyperV},
	"Xen":    {hypervisor: HypervisorXen},
	"BHYVE":  {hypervisor: HypervisorBhyve},
	"PRLS":   {hypervisor: HypervisorParallels},
}

const azureAssetTag = "7783-7084-3265-9085-8269-3286-77"

// votes collects, per candidate name, the signal families that named it.
type votes struct {
	strong map[string][]string
	weak   map[string][]string
}

func newVotes() *votes { return &votes{strong: map[string][]string{}, weak: map[string][]string{}} }

func (v *votes) add(name string, strong bool, evidence string) {
	if name == "" {
		return
	}
	if strong {
		v.strong[name] = append(v.strong[name], evidence)
	} else {
		v.weak[name] = append(v.weak[name], evidence)
	}
}

// best returns the name with the most strong votes, ties broken by weak votes then name.
func (v *votes) best() string {
	names := map[string]bool{}
	for n := range v.strong {
		names[n] = true
	}
	for n := range v.weak {
		names[n] = true
	}
	var list []string
	for n := range names {
		list = append(list, n)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if len(v.strong[a]) != len(v.strong[b]) {
			return len(v.strong[a]) > len(v.strong[b])
		}
		if len(v.weak[a]) != len(v.weak[b]) {
			return len(v.weak[a]) > len(v.weak[b])
		}
		return a < b
	})
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func (v *votes) confidence(name string) Confidence {
	s, w := len(v.strong[name]), len(v.weak[name])
	switch {
	case s >= 2 || (s == 1 && w >= 1):
		return ConfidenceHigh
	case s == 1 || w >= 2:
		return ConfidenceMedium
	case w == 1:
		return ConfidenceLow
	}
	return ""
}

func (v *votes) evidence(name string) []string {
	out := append(append([]string(nil), v.strong[name]...), v.weak[name]...)
	sort.Strings(out)
	return out
}

func dmiFields(d DMI) []struct{ field, value string } {
	return []struct{ field, value string }{
		{"product_name", d.ProductName}, {"sys_vendor", d.SysVendor}, {"board_vendor", d.BoardVendor},
		{"bios_vendor", d.BIOSVendor}, {"product_version", d.ProductVersion},
	}
}

// Classify turns observations into layers. It is pure and total: any input gives an answer.
func Classify(o Observations) Host {
	var h Host
	hyp, vmm := newVotes(), newVotes()
	hvPresent := o.CPUInfo.HypervisorFlag || o.CPUIDPresent

	// CPUID: what the hypervisor says about itself; cannot be faked by a guest's files.
	cpuidName, cpuidKnown := ParseCPUIDVendor(o.CPUIDVendor)
	if o.CPUIDPresent && cpuidKnown {
		hyp.add(cpuidName, true, "cpuid="+strings.Trim(o.CPUIDVendor, "\x00 "))
		if cpuidName == HypervisorQEMUTCG {
			vmm.add(VMMQEMU, true, "cpuid="+strings.Trim(o.CPUIDVendor, "\x00 "))
		}
	}

	// DMI: the platform's SMBIOS strings, first matching rule per field.
	dmiHyp := ""
	for _, fv := range dmiFields(o.DMI) {
		if fv.value == "" {
			continue
		}
		for _, r := range dmiRules {
			if !strings.HasPrefix(fv.value, r.prefix) {
				continue
			}
			ev := "dmi." + fv.field + "=" + fv.value
			if r.hypervisor == HypervisorNitro && !hvPresent {
				// A ".metal" EC2 instance: Amazon's firmware, no hypervisor above us.
				h.Cloud = r.cloud
				break
			}
			hyp.add(r.hypervisor, true, ev)
			vmm.add(r.vmm, true, ev)
			if r.cloud != "" {
				h.Cloud = r.cloud
			}
			if dmiHyp == "" {
				dmiHyp = r.hypervisor
			}
			break
		}
	}
	if strings.HasPrefix(o.DMI.SysVendor, "Microsoft Corporation") && strings.HasPrefix(o.DMI.ProductName, "Virtual Machine") {
		hyp.add(HypervisorHyperV, true, "dmi.product_name="+o.DMI.ProductName)
		dmiHyp = HypervisorHyperV
	}
	switch o.DMI.ChassisAssetTag {
	case azureAssetTag:
		h.Cloud = "azure"
	case "OracleCloud.com":
		h.Cloud = "oracle_cloud"
	}

	// ACPI OEM ids: the VMM that built the tables (root-only on most hosts).
	for _, id := range o.ACPI.OEMIDs() {
		if r, ok := acpiOEMs[id]; ok {
			if r.hypervisor == HypervisorNitro && !hvPresent {
				h.Cloud = r.cloud // bare-metal EC2: Amazon's firmware tables, no hypervisor
				continue
			}
			hyp.add(r.hypervisor, r.vmm == "", "acpi.oem="+id)
			vmm.add(r.vmm, true, "acpi.oem="+id)
			if r.cloud != "" && h.Cloud == "" {
				h.Cloud = r.cloud
			}
		}
	}

	// Xen's own interfaces.
	xen := o.Xen.HypervisorType == "xen" || o.Xen.ProcXen
	if o.Xen.HypervisorType != "" {
		hyp.add(o.Xen.HypervisorType, true, "sys.hypervisor.type="+o.Xen.HypervisorType)
	} else if o.Xen.ProcXen {
		hyp.add(HypervisorXen, true, "proc.xen")
	}

	// Paravirtual clock sources.
	switch {
	case o.Clocksources.Has("kvm-clock"):
		hyp.add(HypervisorKVM, false, "clocksource=kvm-clock")
	case o.Clocksources.HasPrefix("hyperv_clocksource"):
		hyp.add(HypervisorHyperV, false, "clocksource=hyperv_clocksource")
	case o.Clocksources.Has("xen"):
		hyp.add(HypervisorXen, false, "clocksource=xen")
	}

	// Device tree (arm64 and other FDT guests).
	dt := o.DeviceTree
	switch {
	case dt.HasCompatible("xen,xen"):
		hyp.add(HypervisorXen, true, "devicetree.hypervisor=xen,xen")
		xen = true
	case dt.HasCompatible("linux,kvm"):
		hyp.add(HypervisorKVM, true, "devicetree.hypervisor=linux,kvm")
	case dt.HasCompatible("vmware"):
		hyp.add(HypervisorVMware, true, "devicetree.hypervisor=vmware")
	}
	if dt.HasCompatible("linux,dummy-virt") {
		hvPresent = true
		if dt.FWCfg {
			vmm.add(VMMQEMU, false, "devicetree.compatible=linux,dummy-virt+fw-cfg")
		} else {
			vmm.add(VMMFirecracker, false, "devicetree.compatible=linux,dummy-virt,no-fw-cfg")
		}
	}

	// Kernel command line: Firecracker (and QEMU microvm) pass virtio-mmio devices on it.
	if o.Cmdline.Has("virtio_mmio.device") {
		hvPresent = true
		if o.DMI.Empty() {
			vmm.add(VMMFirecracker, false, "cmdline=virtio_mmio.device")
		}
	}

	// Virtio transport and the emulated PCI host bridge.
	if o.Virtio.Devices > 0 {
		hvPresent = true
	}
	if o.Virtio.PCIHostBridge == "8086:0d57" && o.DMI.Empty() {
		// Firecracker and Cloud Hypervisor share this bridge; Cloud Hypervisor writes DMI.
		vmm.add(VMMFirecracker, false, "pci.host_bridge=8086:0d57,no-dmi")
	}
	if o.Virtio.MMIO > 0 && o.DMI.Empty() && !dt.FWCfg {
		vmm.add(VMMFirecracker, false, "virtio.transport=mmio,no-dmi")
	}

	// CPU model names QEMU gives its default CPUs.
	if m := o.CPUInfo.ModelName; strings.Contains(m, "QEMU Virtual CPU") || strings.Contains(m, "Common KVM processor") {
		vmm.add(VMMQEMU, false, "cpuinfo.model="+m)
	}

	// Choose the hypervisor.
	name := hyp.best()
	if xen {
		name = HypervisorXen // Xen with Viridian shows "Microsoft Hv" in CPUID
	} else if cpuidName == HypervisorHyperV && (dmiHyp == HypervisorKVM || vmm.best() == VMMQEMU || o.Clocksources.Has("kvm-clock")) {
		name = HypervisorKVM // KVM with Hyper-V enlightenments
		hyp.add(HypervisorKVM, true, "cpuid=Microsoft Hv+kvm-signals")
	} else if cpuidKnown && o.CPUIDPresent && cpuidName == HypervisorKVM && hyp.strong[HypervisorNitro] != nil {
		name = HypervisorNitro // Nitro is KVM-based and says KVMKVMKVM
		hyp.add(HypervisorNitro, true, "cpuid=KVMKVMKVM")
	}
	vmmName := vmm.best()
	if name == "" && (vmmName == VMMFirecracker || vmmName == VMMCloudHypervisor) {
		// Firecracker only runs on KVM; Cloud Hypervisor on KVM or MSHV (which says "Microsoft Hv").
		name = HypervisorKVM
		hyp.add(HypervisorKVM, false, "vmm="+vmmName)
	}
	if name == "" && hvPresent {
		name = HypervisorOther
		ev := "cpuinfo.flags=hypervisor"
		if !o.CPUInfo.HypervisorFlag {
			ev = "virtual-devices"
		}
		hyp.add(name, false, ev)
	}

	// Sandboxes and guest kernels, detected before containers because they carry them.
	wslKernel := containsFold(o.OSRelease, "microsoft") || containsFold(o.ProcVersion, "microsoft")
	wsl2 := wslKernel && (containsFold(o.OSRelease, "WSL2") || strings.Contains(o.OSRelease, "microsoft-standard"))
	if wsl2 && name == "" || wsl2 && name == HypervisorOther {
		name = HypervisorHyperV // WSL2 is a Hyper-V utility VM
		hyp.add(name, false, "osrelease=WSL2")
	}
	if name != "" {
		h.HypervisorName = name
		h.HypervisorType = HypervisorType(name)
		h.Layers = append(h.Layers, Layer{Kind: KindHypervisor, Name: name, Confidence: hyp.confidence(name), Evidence: hyp.evidence(name)})
	}
	if vmmName != "" && name != "" && name != HypervisorVirtualBox && name != HypervisorVMware && name != HypervisorParallels {
		h.VMMName = vmmName
		h.Layers = append(h.Layers, Layer{Kind: KindVMM, Name: vmmName, Confidence: vmm.confidence(vmmName), Evidence: vmm.evidence(vmmName)})
	}

	switch {
	case xen && o.Xen.Dom0:
		h.Role = RoleDom0
	case name != "":
		h.Role = RoleGuest
	case o.DevKVM || o.CPUInfo.VirtFlags:
		h.Role = RoleHost
	default:
		h.Role = RoleNone
	}
	if name == HypervisorXen && o.Xen.GuestType != "" && len(h.Layers) > 0 {
		// PV, HVM or PVH: how much of the machine Xen emulates for this domain.
		h.Layers[0].Evidence = append(h.Layers[0].Evidence, "xen.guest_type="+o.Xen.GuestType)
	}
	if h.Role == RoleDom0 && len(h.Layers) > 0 {
		// dom0 runs on Xen but is the host's control domain: keep the layer, say so.
		h.Layers[0].Evidence = append(h.Layers[0].Evidence, "xen.dom0")
	}

	if l, ok := kataGuest(o); ok {
		h.Layers = append(h.Layers, l)
	}
	if wslKernel {
		l := Layer{Kind: KindGuest, Name: GuestWSL, Evidence: []string{"osrelease=" + o.OSRelease}}
		if !wsl2 {
			// WSL1 translates Linux system calls in the NT kernel: no VM, a sandbox.
			l.Kind = KindSandbox
		}
		l.Confidence = ConfidenceMedium
		if o.WSLInterop {
			l.Evidence = append(l.Evidence, "binfmt_misc=WSLInterop")
			l.Confidence = ConfidenceHigh
		}
		h.Layers = append(h.Layers, l)
	}
	if l, ok := gvisorSandbox(o); ok {
		h.Layers = append(h.Layers, l)
	}
	if l, orch, ok := containerLayer(o); ok {
		h.Layers = append(h.Layers, l)
		h.ContainerRuntime = l.Name
		h.Orchestrator = orch
	} else {
		h.Orchestrator = orch
	}

	h.KernelRelease = o.OSRelease
	h.IsolationLevel, h.IsolationTechnology = isolationOf(h)
	h.Confidence = ConfidenceHigh
	if !o.CPUInfo.Present && !o.CPUIDPresent && len(h.Layers) == 0 {
		h.Confidence = ConfidenceMedium
	}
	for _, l := range h.Layers {
		if l.Confidence.rank() < h.Confidence.rank() {
			h.Confidence = l.Confidence
		}
	}
	return h
}

func kataGuest(o Observations) (Layer, bool) {
	l := Layer{Kind: KindGuest, Name: GuestKata}
	s := 0
	if v, ok := o.Cmdline.Value("systemd.unit"); ok && strings.HasPrefix(v, "kata-containers") {
		l.Evidence = append(l.Evidence, "cmdline=systemd.unit="+v)
		s++
	}
	if o.Cmdline.HasPrefix("agent.") {
		l.Evidence = append(l.Evidence, "cmdline=agent.*")
		s++
	}
	for _, m := range o.Mounts {
		if m.Source == "kataShared" || strings.HasPrefix(m.Target, "/run/kata-containers") {
			l.Evidence = append(l.Evidence, "mount="+m.Source+":"+m.Target)
			s++
			break
		}
	}
	switch {
	case s >= 2:
		l.Confidence = ConfidenceHigh
	case s == 1:
		l.Confidence = ConfidenceMedium
	default:
		return Layer{}, false
	}
	return l, true
}

func gvisorSandbox(o Observations) (Layer, bool) {
	l := Layer{Kind: KindSandbox, Name: SandboxGVisor}
	strong, weak := 0, 0
	if o.GVisorMarker {
		l.Evidence = append(l.Evidence, "proc.gvisor.kernel_is_gvisor")
		strong++
	}
	if strings.Contains(o.ProcVersion, gvisorFakeVersion) {
		l.Evidence = append(l.Evidence, "proc.version=gvisor-2016")
		strong++
	}
	if strong > 0 && !o.ProcModules {
		l.Evidence = append(l.Evidence, "proc.modules=absent")
		weak++
	}
	switch {
	case strong >= 2 || strong == 1 && weak == 1:
		l.Confidence = ConfidenceHigh
	case strong == 1:
		l.Confidence = ConfidenceMedium
	default:
		return Layer{}, false
	}
	return l, true
}

// containerNames maps the values of container= and /run/systemd/container.
var containerNames = map[string]string{
	"docker": ContainerDocker, "podman": ContainerPodman, "lxc": ContainerLXC, "lxc-libvirt": ContainerLXC,
	"systemd-nspawn": ContainerNspawn, "crio": ContainerCRIO, "cri-o": ContainerCRIO,
	"containerd": ContainerContainerd, "oci": ContainerOther,
}

// CgroupEngine names the container engine a cgroup path belongs to, "" when none.
func CgroupEngine(path string) string {
	switch {
	case strings.Contains(path, "/docker/") || strings.Contains(path, "docker-") && strings.Contains(path, ".scope"):
		return ContainerDocker
	case strings.Contains(path, "libpod-") || strings.Contains(path, "/libpod_parent/"):
		return ContainerPodman
	case strings.Contains(path, "crio-"):
		return ContainerCRIO
	case strings.Contains(path, "cri-containerd-") || strings.Contains(path, "/kubepods") || strings.Contains(path, "kubepods.slice"):
		return ContainerContainerd
	case strings.Contains(path, "lxc.payload") || strings.HasPrefix(path, "/lxc/"):
		return ContainerLXC
	case strings.Contains(path, "machine.slice/machine-") || strings.Contains(path, "/systemd-nspawn"):
		return ContainerNspawn
	}
	return ""
}

func containerLayer(o Observations) (Layer, string, bool) {
	v := newVotes()
	orch := ""
	if _, ok := o.InitEnv["KUBERNETES_SERVICE_HOST"]; ok || o.K8sServiceAccount {
		orch = "kubernetes"
	}
	if c, ok := o.InitEnv["container"]; ok && c != "" {
		n := containerNames[c]
		if n == "" {
			n = ContainerOther
		}
		v.add(n, true, "env.container="+c)
	}
	if c := o.SystemdContainer; c != "" {
		n := containerNames[c]
		if n == "" {
			n = ContainerOther
		}
		v.add(n, true, "run.systemd.container="+c)
	}
	if c := o.HostContainerManager; c != "" {
		n := containerNames[c]
		if n == "" {
			n = ContainerOther
		}
		v.add(n, true, "run.host.container-manager="+c)
	}
	if o.ContainerEnvFile {
		n := ContainerPodman
		for _, line := range strings.Split(o.ContainerEnv, "\n") {
			if eng, ok := strings.CutPrefix(line, "engine="); ok && containsFold(eng, "cri-o") {
				n = ContainerCRIO
			}
		}
		v.add(n, true, "run.containerenv")
	}
	if o.DockerEnv {
		v.add(ContainerDocker, true, "dockerenv")
	}
	for _, l := range o.InitCgroup {
		if e := CgroupEngine(l.Path); e != "" {
			v.add(e, false, "cgroup="+l.Path)
			break
		}
	}
	if o.ProcVZ && !o.ProcBC {
		v.add("openvz", true, "proc.vz")
	}
	name := v.best()
	if name == ContainerOther {
		// A generic marker (container=oci) plus an engine-specific cgroup path names the engine.
		for n := range v.weak {
			if n != ContainerOther {
				v.strong[n] = append(v.strong[n], v.strong[ContainerOther]...)
				name = n
			}
		}
	}
	if orch != "" && (name == ContainerContainerd || name == ContainerCRIO) {
		v.add(name, false, "kubernetes")
	}
	if name == "" {
		if orch != "" {
			// A pod whose runtime left no trace of its own: Kubernetes' default is containerd.
			name = ContainerContainerd
			v.add(name, false, "kubernetes")
		} else {
			return Layer{}, orch, false
		}
	}
	return Layer{Kind: KindContainer, Name: name, Confidence: v.confidence(name), Evidence: v.evidence(name)}, orch, true
}

func isolationOf(h Host) (level, technology string) {
	level, technology = IsolationNone, ""
	rank := 0
	set := func(r int, l, t string) {
		if r > rank {
			rank, level, technology = r, l, t
		}
	}
	for _, l := range h.Layers {
		switch l.Kind {
		case KindHypervisor:
			set(4, IsolationVM, l.Name)
		case KindVMM:
			if l.Name == VMMFirecracker || l.Name == VMMCloudHypervisor {
				rank = 0
				set(5, IsolationMicroVM, l.Name)
			} else if rank <= 4 {
				rank = 0
				set(4, IsolationVM, l.Name)
			}
		case KindGuest:
			if l.Name == GuestKata {
				rank = 0
				set(6, IsolationMicroVM, GuestKata)
			} else if rank <= 4 {
				rank = 0
				set(4, IsolationVM, l.Name)
			}
		case KindSandbox:
			set(3, IsolationSandbox, l.Name)
		case KindContainer:
			set(2, IsolationContainer, l.Name)
		}
	}
	return level, technology
}
