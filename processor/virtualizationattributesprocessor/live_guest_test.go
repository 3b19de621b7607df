package virtualizationattributesprocessor

import (
	"bufio"
	"debug/elf"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rootfsFiles is the file set of a minimal root: busybox-static as /bin/sh, the live binaries
// under /probe, and systemd-detect-virt with the libraries it loads (so the real tool answers
// inside too).
func rootfsFiles(t *testing.T, bins liveBinaries) map[string]string {
	t.Helper()
	busybox := "/bin/busybox"
	if !staticELF(busybox) {
		t.Skip("/bin/busybox is missing or not the static one (Debian package busybox-static; `make deps` installs it)")
	}
	files := map[string]string{"/bin/busybox": busybox}
	for _, n := range []string{"otelcol-virt-edge", "virtprobe", "virtdetect", "live.sh"} {
		files["/probe/"+n] = filepath.Join(bins.dir, n)
	}
	if sdv, err := exec.LookPath("systemd-detect-virt"); err == nil {
		files["/usr/bin/systemd-detect-virt"] = sdv
		for _, lib := range libsOf(t, sdv) {
			real, err := filepath.EvalSymlinks(lib)
			if err == nil {
				files[lib] = real
			}
		}
	}
	return files
}

// staticELF reports whether path is an ELF executable without a program interpreter.
func staticELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// cpioWriter writes the "newc" format the kernel unpacks into its initramfs.
type cpioWriter struct {
	w   *bufio.Writer
	ino int
	n   int64
}

func (c *cpioWriter) pad() error {
	for c.n%4 != 0 {
		if err := c.w.WriteByte(0); err != nil {
			return err
		}
		c.n++
	}
	return nil
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) error {
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	for _, b := range [][]byte{[]byte(hdr), []byte(name), {0}} {
		if _, err := c.w.Write(b); err != nil {
			return err
		}
		c.n += int64(len(b))
	}
	if err := c.pad(); err != nil {
		return err
	}
	if _, err := c.w.Write(data); err != nil {
		return err
	}
	c.n += int64(len(data))
	return c.pad()
}

// writeInitramfs builds an initramfs from files (guest path -> host path), directories made as
// needed, symlinks, and an /init script.
func writeInitramfs(t *testing.T, path string, files, links map[string]string, init string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	c := &cpioWriter{w: bufio.NewWriterSize(f, 1<<20)}
	dirs := map[string]bool{}
	var addDir func(string)
	addDir = func(d string) {
		if d == "/" || d == "." || dirs[d] {
			return
		}
		addDir(filepath.Dir(d))
		dirs[d] = true
		require.NoError(t, c.entry(strings.TrimPrefix(d, "/"), 0o040755, nil))
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/etc"} {
		addDir(d)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		addDir(filepath.Dir(n))
		b, err := os.ReadFile(files[n])
		require.NoError(t, err)
		require.NoError(t, c.entry(strings.TrimPrefix(n, "/"), 0o100755, b))
	}
	for n, target := range links {
		addDir(filepath.Dir(n))
		require.NoError(t, c.entry(strings.TrimPrefix(n, "/"), 0o120777, []byte(target)))
	}
	require.NoError(t, c.entry("init", 0o100755, []byte(init)))
	require.NoError(t, c.entry("TRAILER!!!", 0, nil))
	require.NoError(t, c.w.Flush())
}

// guestInit is PID 1 of the test guest: mount the kernel file systems, bring up loopback (the
// only network: nothing leaves the guest), run the live script, power off.
const guestInit = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox ip link set lo up
export PATH=/bin:/usr/bin TMPDIR=/tmp
echo LIVE-GUEST-BOOTED
/bin/busybox sh /probe/live.sh /probe /usr/bin/systemd-detect-virt
/bin/busybox sync
/bin/busybox poweroff -f
`

func guestKernel(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(matches)
	if len(matches) == 0 {
		t.Skip("no guest kernel in /boot (Debian package linux-image-amd64; `make deps` installs it)")
	}
	return matches[len(matches)-1]
}

// requireKVMForStockKernel skips when this machine's KVM cannot run Debian's kernel: without
// /dev/kvm, or when /dev/kvm is PVM (kvm_pvm, a pagetable-based nested KVM that runs only guest
// kernels built for PVM; a stock kernel hangs in its decompressor).
func requireKVMForStockKernel(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Skip("/dev/kvm is not available")
	}
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		t.Skip("this machine's /dev/kvm is PVM (module kvm_pvm): it runs only PVM-built guest kernels, not Debian's linux-image-amd64")
	}
}

// runGuest boots the kernel with the initramfs under QEMU (accel kvm or tcg) and returns what
// the guest wrote to its serial console.
func runGuest(t *testing.T, machine, accel string) (liveResult, string) {
	t.Helper()
	requireRoot(t)
	qemu := requireTool(t, "qemu-system-x86_64", "qemu-system-x86")
	if accel == "kvm" {
		requireKVMForStockKernel(t)
	}
	kernel := guestKernel(t)
	bins := buildLiveBinaries(t)
	dir := t.TempDir()
	initrd := filepath.Join(dir, "initrd")
	writeInitramfs(t, initrd, rootfsFiles(t, bins), map[string]string{"/bin/sh": "busybox"}, guestInit)
	serial := filepath.Join(dir, "serial.log")
	args := []string{"-M", machine, "-accel", accel, "-m", "1024", "-smp", "1",
		"-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "file:" + serial, "-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 quiet"}
	if machine == "microvm" {
		// QEMU 7.2's microvm machine has no PIT or HPET to calibrate the TSC against; under TCG
		// the kernel then sometimes stalls in early boot. Give it the TSC frequency, and 512 MiB
		// (it stalled with 1 GiB here), which holds the initramfs and the collector.
		args[5] = "512"
		args[len(args)-1] += " tsc_early_khz=2000000"
	}
	if machine == "pc" {
		// No default NIC, VGA or drives: nothing but the serial console. (QEMU's microvm machine
		// has none of them already, and -nodefaults would take its serial port away.)
		args = append(args, "-nodefaults")
	}
	out := runLive(t, 8*time.Minute, qemu, args...)
	b, err := os.ReadFile(serial)
	require.NoError(t, err)
	console := string(b)
	require.Contains(t, console, "LIVE-SCRIPT-DONE", "the guest did not finish the live script; console:\n%s\nqemu:\n%s", tail(console, 6000), out)
	return parseLiveOutput(t, console), kernel
}

// requireSystemdRan: the real systemd-detect-virt, copied in with its libraries, answered inside
// (its answers are the fixture's systemd column).
func requireSystemdRan(t *testing.T, r liveResult) {
	t.Helper()
	if _, err := exec.LookPath("systemd-detect-virt"); err != nil {
		return // not on this machine, so not copied in
	}
	require.Contains(t, r.systemd, "vm", "systemd-detect-virt did not run inside:\n%s", tail(r.output, 3000))
}

// TestLiveQEMUGuest boots Debian's kernel in a QEMU guest with the binary in its initramfs and
// reads the result from the serial console: under KVM (nested here) hypervisor:kvm, under TCG
// (software emulation, where KVM cannot run the kernel) hypervisor:tcg; vmm:qemu from DMI in both.
func TestLiveQEMUGuest(t *testing.T) {
	for _, accel := range []string{"kvm", "tcg"} {
		t.Run(accel, func(t *testing.T) {
			r, kernel := runGuest(t, "pc", accel)
			want := map[string]string{"kvm": "kvm", "tcg": "tcg"}[accel]
			assert.Equal(t, []string{"hypervisor:" + want, "vmm:qemu"}, r.layers)
			assert.Equal(t, "vm", r.attrs[attrHostIsolationLevel])
			assert.Equal(t, "qemu", r.attrs[attrHostIsolationTechnology])
			requireSystemdRan(t, r)
			// systemd says "qemu" for TCG (its CPUID table maps TCGTCGTCGTCG to QEMU).
			assert.Equal(t, map[string]string{"kvm": "kvm", "tcg": "qemu"}[accel], r.systemd["vm"], "the real systemd-detect-virt --vm in the guest")
			checkAgainstFixture(t, "live-qemu-"+accel, originText("live-qemu-"+accel,
				"a QEMU `-M pc -accel "+accel+"` guest booted here from Debian's kernel with an initramfs of "+
					"busybox-static and the static binaries; results read from its serial console.",
				"guest kernel "+filepath.Base(kernel), commandLine("qemu-system-x86_64", "--version")), r)
		})
	}
}

// TestLiveQEMUMicroVM boots the same guest under QEMU's microvm machine: a micro-VM that is not
// Firecracker and must not be called so.
func TestLiveQEMUMicroVM(t *testing.T) {
	for _, accel := range []string{"kvm", "tcg"} {
		t.Run(accel, func(t *testing.T) {
			r, kernel := runGuest(t, "microvm", accel)
			// QEMU names itself in its ACPI tables (BOCHS) under microvm too; the machine has no
			// PCI device, which makes it a micro-VM; nothing in it says Firecracker.
			assert.Equal(t, []string{"hypervisor:" + accel, "vmm:qemu"}, r.layers, "QEMU microvm is not Firecracker")
			assert.Equal(t, "microvm", r.attrs[attrHostIsolationLevel])
			assert.Equal(t, "qemu", r.attrs[attrHostIsolationTechnology])
			requireSystemdRan(t, r)
			assert.Equal(t, map[string]string{"kvm": "kvm", "tcg": "qemu"}[accel], r.systemd["vm"], "the real systemd-detect-virt --vm in the guest")
			checkAgainstFixture(t, "live-qemu-microvm-"+accel, originText("live-qemu-microvm-"+accel,
				"the live-qemu guest booted under QEMU's `-M microvm -accel "+accel+"` machine (virtio-mmio, no PCI).",
				"guest kernel "+filepath.Base(kernel), commandLine("qemu-system-x86_64", "--version")), r)
		})
	}
}

// TestLivePodman runs the binary as a Podman container (runc, cgroupfs manager) from a rootfs
// imported with `podman import`, with its own storage so nothing is left behind.
func TestLivePodman(t *testing.T) {
	requireRoot(t)
	podman := requireTool(t, "podman", "podman")
	requireTool(t, "runc", "runc")
	bins := buildLiveBinaries(t)
	dir := t.TempDir()
	tarball := filepath.Join(dir, "rootfs.tar")
	writeRootfsTar(t, tarball, rootfsFiles(t, bins))
	storage := []string{"--root", filepath.Join(dir, "storage"), "--runroot", filepath.Join(dir, "run"),
		"--cgroup-manager=cgroupfs", "--events-backend=file", "--runtime", "runc"}
	image := "localhost/otelcol-virt-live:test"
	runLive(t, 2*time.Minute, podman, append(storage, "import", tarball, image)...)
	t.Cleanup(func() {
		_ = exec.Command(podman, append(storage, "rm", "-a", "-f")...).Run()
		_ = exec.Command(podman, append(storage, "rmi", "-a", "-f")...).Run()
		_ = exec.Command(podman, append(storage, "system", "reset", "-f")...).Run()
	})
	out := runLive(t, 4*time.Minute, podman, append(storage, "run", "--rm", "--network=none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", image,
		"/bin/busybox", "sh", "/probe/live.sh", "/probe", "/usr/bin/systemd-detect-virt")...)
	r := parseLiveOutput(t, out)
	require.NotEmpty(t, r.layers)
	assert.Equal(t, "container:podman", r.layers[len(r.layers)-1], "the container is the innermost layer")
	if hv := hostHypervisor(t); hv != "" {
		assert.Equal(t, "hypervisor:"+hv, r.layers[0], "CPUID still shows the host's hypervisor inside the container")
		for _, l := range r.layers[1 : len(r.layers)-1] {
			// Podman masks /sys/firmware, so no ACPI table names the VMM: at most its shape.
			assert.True(t, strings.HasPrefix(l, "vmm:"), "between the hypervisor and the container only a VMM: %v", r.layers)
			assert.NotEqual(t, "vmm:firecracker", l, "nothing inside the container names Firecracker")
		}
	} else {
		assert.Equal(t, []string{"container:podman"}, r.layers)
	}
	assert.Equal(t, "podman", r.attrs[attrContainerRuntime])
	wantLevel := "container"
	switch {
	case len(r.layers) == 3 && r.layers[1] == "vmm:unknown":
		wantLevel = "microvm" // a micro-VM's shape (here Firecracker's PCI bridge) under the container
	case len(r.layers) > 1:
		wantLevel = "vm"
	}
	assert.Equal(t, wantLevel, r.attrs[attrHostIsolationLevel], "the strongest boundary: %v", r.layers)
	requireSystemdRan(t, r)
	assert.Equal(t, "podman", r.systemd["container"], "the real systemd-detect-virt --container inside")
	checkAgainstFixture(t, "live-podman", originText("live-podman",
		"`podman run --runtime runc --cgroup-manager=cgroupfs --network=none` of a busybox-static rootfs brought in with "+
			"`podman import`, on the Firecracker/KVM development machine.",
		commandLine(podman, "--version"), commandLine("runc", "--version"), "host kernel "+hostKernel()), r)
}

// writeRootfsTar writes a rootfs tarball for `podman import`.
func writeRootfsTar(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	tw := newTarWriter(f)
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "etc"} {
		require.NoError(t, tw.dir(d))
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		require.NoError(t, tw.file(strings.TrimPrefix(n, "/"), files[n]))
	}
	require.NoError(t, tw.symlink("bin/sh", "busybox"))
	require.NoError(t, tw.close())
}
