package virtdetect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadFixture returns the FS and CPUID of testdata/hosts/<name>.
func loadFixture(t testing.TB, name string) (FS, CPUID) {
	t.Helper()
	dir := filepath.Join("testdata", "hosts", name)
	_, err := os.Stat(filepath.Join(dir, "ORIGIN.md"))
	require.NoError(t, err, "every fixture names its origin")
	return NewFS(filepath.Join(dir, "root")), fixtureCPUID(t, dir)
}

func fixtureCPUID(t testing.TB, dir string) CPUID {
	b, err := os.ReadFile(filepath.Join(dir, "cpuid"))
	if os.IsNotExist(err) {
		return NoCPUID
	}
	require.NoError(t, err)
	return FixedCPUID(strings.TrimRight(string(b), "\n"))
}

type fixtureWant struct {
	layers     []string // "kind:name/confidence", outermost first
	hypType    string
	role       string
	cloud      string
	isolation  string
	technology string
	orch       string
	evidence   string // expected in the outermost layer's evidence
	vmmEvid    string // expected in the VMM layer's evidence
}

// fixtureWants is what each captured or reconstructed host must yield. The reasoning for the
// non-obvious ones is in the fixture's ORIGIN.md and in the README's detection matrix.
var fixtureWants = map[string]fixtureWant{
	"baremetal":     {role: RoleHost, isolation: IsolationNone},
	"kvm-host":      {role: RoleHost, isolation: IsolationNone},
	"aws-ec2-metal": {role: RoleHost, cloud: "aws", isolation: IsolationNone},
	"kvm-qemu": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU},
	"qemu-tcg": {layers: []string{"hypervisor:tcg/medium", "vmm:qemu/high"}, hypType: TypeEmulated,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU},
	"xen-hvm-domu": {layers: []string{"hypervisor:xen/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorXen, evidence: "xen.guest_type=HVM"},
	"xen-pv-domu": {layers: []string{"hypervisor:xen/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorXen, evidence: "xen.guest_type=PV"},
	// dom0 is the host's control domain: no VM layer (as systemd), the role says Xen.
	"xen-dom0": {role: RoleDom0, isolation: IsolationNone},
	"hyperv": {layers: []string{"hypervisor:hyperv/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorHyperV},
	"azure": {layers: []string{"hypervisor:hyperv/high"}, hypType: TypeBareMetal, role: RoleGuest, cloud: "azure",
		isolation: IsolationVM, technology: HypervisorHyperV},
	"kvm-hyperv-enlightened": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU},
	"vmware": {layers: []string{"hypervisor:vmware/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorVMware},
	"virtualbox": {layers: []string{"hypervisor:virtualbox/high"}, hypType: TypeHostedApp, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorVirtualBox},
	"parallels": {layers: []string{"hypervisor:parallels/high"}, hypType: TypeHostedApp, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorParallels},
	"bhyve": {layers: []string{"hypervisor:bhyve/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorBhyve},
	"acrn": {layers: []string{"hypervisor:acrn/medium"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorACRN},
	"aws-nitro": {layers: []string{"hypervisor:nitro/high"}, hypType: TypeBareMetal, role: RoleGuest, cloud: "aws",
		isolation: IsolationVM, technology: HypervisorNitro},
	"gce": {layers: []string{"hypervisor:kvm/high", "vmm:gce/medium"}, hypType: TypeBareMetal, role: RoleGuest, cloud: "gcp",
		isolation: IsolationVM, technology: VMMGCE},
	"oracle-cloud": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high"}, hypType: TypeBareMetal, role: RoleGuest,
		cloud: "oracle_cloud", isolation: IsolationVM, technology: VMMQEMU},
	"apple-vz": {layers: []string{"hypervisor:apple/medium"}, hypType: TypeHostedApp, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorApple},
	"firecracker-x86-mmio": {layers: []string{"hypervisor:kvm/high", "vmm:firecracker/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMFirecracker},
	// The FDT of a Firecracker arm64 guest names no VMM (crosvm and kvmtool write the same): a
	// micro-VM of an unknown VMM on an unknown hypervisor, never "firecracker".
	"firecracker-arm64": {layers: []string{"hypervisor:other/low", "vmm:unknown/low"}, role: RoleGuest,
		isolation: IsolationMicroVM, technology: HypervisorOther},
	"qemu-arm64-virt": {layers: []string{"hypervisor:other/low", "vmm:qemu/medium"}, role: RoleGuest,
		isolation: IsolationVM, technology: VMMQEMU},
	"cloud-hypervisor": {layers: []string{"hypervisor:kvm/high", "vmm:cloud_hypervisor/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMCloudHypervisor},
	"gvisor-in-vm": {layers: []string{"hypervisor:other/low", "sandbox:gvisor/high", "container:docker/medium"},
		role: RoleGuest, isolation: IsolationVM, technology: HypervisorOther},
	"kata-in-kvm": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/medium", "guest:kata/high", "container:containerd/low"},
		hypType: TypeBareMetal, role: RoleGuest, isolation: IsolationMicroVM, technology: GuestKata, orch: "kubernetes"},
	"wsl2": {layers: []string{"hypervisor:hyperv/high", "guest:wsl/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: GuestWSL},
	"wsl1":   {layers: []string{"sandbox:wsl/high"}, role: RoleNone, isolation: IsolationSandbox, technology: GuestWSL},
	"docker": {layers: []string{"container:docker/high"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerDocker},
	"podman": {layers: []string{"container:podman/high"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerPodman},
	"k8s-containerd": {layers: []string{"container:containerd/medium"}, role: RoleHost, isolation: IsolationContainer,
		technology: ContainerContainerd, orch: "kubernetes"},
	"k8s-crio": {layers: []string{"container:cri-o/high"}, role: RoleHost, isolation: IsolationContainer,
		technology: ContainerCRIO, orch: "kubernetes"},
	"lxc":            {layers: []string{"container:lxc/medium"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerLXC},
	"systemd-nspawn": {layers: []string{"container:systemd-nspawn/high"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerNspawn},
	"docker-in-kvm-vm": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high", "container:docker/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU},
	"docker-desktop-wsl2": {layers: []string{"hypervisor:hyperv/high", "guest:wsl/medium", "container:docker/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: GuestWSL},
	// Captured live by the processor's live tests (ORIGIN.md in each folder).
	"live-firecracker-host": {layers: []string{"hypervisor:kvm/high", "vmm:firecracker/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMFirecracker},
	// QEMU under TCG here (this machine's KVM cannot boot a stock kernel); microvm is a micro-VM
	// by its shape (no PCI device at all), named QEMU by its ACPI tables, never Firecracker.
	"live-qemu-tcg": {layers: []string{"hypervisor:tcg/medium", "vmm:qemu/high"}, hypType: TypeEmulated,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU, vmmEvid: "dmi.sys_vendor=QEMU"},
	"live-qemu-microvm-tcg": {layers: []string{"hypervisor:tcg/medium", "vmm:qemu/high"}, hypType: TypeEmulated,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMQEMU, vmmEvid: "pci=none"},
	"live-gvisor": {layers: []string{"hypervisor:kvm/medium", "sandbox:gvisor/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: HypervisorKVM},
	// Podman masks /sys/firmware: the ACPI tables that name Firecracker are hidden, the shape stays.
	"live-podman": {layers: []string{"hypervisor:kvm/high", "vmm:unknown/low", "container:podman/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: HypervisorKVM},
	"aws-graviton": {layers: []string{"hypervisor:nitro/high"}, hypType: TypeBareMetal, role: RoleGuest, cloud: "aws",
		isolation: IsolationVM, technology: HypervisorNitro, evidence: "dmi.sys_vendor=Amazon EC2+smbios.vm_bit=set"},
	"aws-graviton-metal": {role: RoleHost, cloud: "aws", isolation: IsolationNone},
	"chromebook":         {role: RoleHost, isolation: IsolationNone},
	"crosvm-arm64": {layers: []string{"hypervisor:other/low", "vmm:unknown/low"}, role: RoleGuest,
		isolation: IsolationMicroVM, technology: HypervisorOther},
	"xen-dom0-nested-kvm": {layers: []string{"hypervisor:kvm/medium", "vmm:qemu/high"}, hypType: TypeBareMetal, role: RoleDom0,
		isolation: IsolationVM, technology: VMMQEMU},
	"powervm": {layers: []string{"hypervisor:powervm/medium"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorPowerVM},
	"edera-zone": {layers: []string{"hypervisor:xen/high", "guest:edera/high"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationMicroVM, technology: GuestEdera},
	"uml": {layers: []string{"hypervisor:uml/medium"}, hypType: TypeHostedApp, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorUML},
	"zvm": {layers: []string{"hypervisor:zvm/medium"}, hypType: TypeBareMetal, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorZVM},
	// A /.dockerenv left in a VM image, nothing else of a container: no container layer.
	"dockerenv-in-kvm-vm": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationVM, technology: VMMQEMU},
	"proot":             {layers: []string{"container:proot/medium"}, role: RoleNone, isolation: IsolationContainer, technology: ContainerProot},
	"openvz":            {layers: []string{"container:openvz/medium"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerOpenVZ},
	"unnamed-container": {layers: []string{"container:other/medium"}, role: RoleHost, isolation: IsolationContainer, technology: ContainerOther},
}

func TestFixtures(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "hosts"))
	require.NoError(t, err)
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		seen++
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			want, ok := fixtureWants[name]
			require.True(t, ok, "fixture %s has no expectation in fixtureWants", name)
			f, cpu := loadFixture(t, name)
			h := Detect(f, cpu)
			var got []string
			for _, l := range h.Layers {
				got = append(got, l.String()+"/"+string(l.Confidence))
				assert.NotEmpty(t, l.Evidence, "layer %s must say why", l)
			}
			assert.Equal(t, want.layers, got, "layers, outermost first")
			assert.Equal(t, want.hypType, h.HypervisorType, "hypervisor type")
			assert.Equal(t, want.role, h.Role, "role")
			assert.Equal(t, want.cloud, h.CloudProvider, "cloud")
			assert.Equal(t, want.isolation, h.IsolationLevel, "isolation level")
			assert.Equal(t, want.technology, h.IsolationTechnology, "isolation technology")
			assert.Equal(t, want.orch, h.Orchestrator, "orchestrator")
			if want.evidence != "" {
				assert.Contains(t, h.Layers[0].Evidence, want.evidence)
			}
			if want.vmmEvid != "" {
				for _, l := range h.Layers {
					if l.Kind == KindVMM {
						assert.Contains(t, l.Evidence, want.vmmEvid)
					}
				}
			}
		})
	}
	assert.Equal(t, len(fixtureWants), seen, "every expectation has a fixture")
}
