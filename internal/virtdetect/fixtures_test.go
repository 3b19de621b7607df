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
	"xen-dom0": {layers: []string{"hypervisor:xen/high"}, hypType: TypeBareMetal, role: RoleDom0,
		isolation: IsolationVM, technology: HypervisorXen, evidence: "xen.dom0"},
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
	"gce": {layers: []string{"hypervisor:kvm/high", "vmm:gce/high"}, hypType: TypeBareMetal, role: RoleGuest, cloud: "gcp",
		isolation: IsolationVM, technology: VMMGCE},
	"oracle-cloud": {layers: []string{"hypervisor:kvm/high", "vmm:qemu/high"}, hypType: TypeBareMetal, role: RoleGuest,
		cloud: "oracle_cloud", isolation: IsolationVM, technology: VMMQEMU},
	"apple-vz": {layers: []string{"hypervisor:apple/medium"}, hypType: TypeHostedApp, role: RoleGuest,
		isolation: IsolationVM, technology: HypervisorApple},
	"firecracker-x86-mmio": {layers: []string{"hypervisor:kvm/high", "vmm:firecracker/high"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMFirecracker},
	"firecracker-arm64": {layers: []string{"hypervisor:kvm/low", "vmm:firecracker/medium"}, hypType: TypeBareMetal,
		role: RoleGuest, isolation: IsolationMicroVM, technology: VMMFirecracker},
	"qemu-arm64-virt": {layers: []string{"hypervisor:other/low", "vmm:qemu/low"}, role: RoleGuest,
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
	// This very machine: a container marker inside a Firecracker micro-VM on KVM.
	"firecracker-kvm-docker": {layers: []string{"hypervisor:kvm/high", "vmm:firecracker/high", "container:docker/medium"},
		hypType: TypeBareMetal, role: RoleGuest, isolation: IsolationMicroVM, technology: VMMFirecracker},
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
			assert.Equal(t, want.cloud, h.Cloud, "cloud")
			assert.Equal(t, want.isolation, h.IsolationLevel, "isolation level")
			assert.Equal(t, want.technology, h.IsolationTechnology, "isolation technology")
			assert.Equal(t, want.orch, h.Orchestrator, "orchestrator")
			if want.evidence != "" {
				assert.Contains(t, h.Layers[0].Evidence, want.evidence)
			}
		})
	}
	assert.Equal(t, len(fixtureWants), seen, "every expectation has a fixture")
}
