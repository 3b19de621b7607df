// Package guesttest boots real guests for the tests of vmstats and the wasm_runtime receiver: Debian's kernel with a
// busybox initramfs the test builds, in QEMU, on a tap device inside a network namespace
// the test creates (no route out; the guest talks only to the namespace's own address).
package guesttest

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// Kernel is a guest kernel and the modules the initramfs needs from it.
type Kernel struct {
	Image   string
	Version string
	Modules []string // insmod order
}

// FindKernel returns Debian's newest installed linux-image-amd64 kernel, or skips the test
// naming the package when there is none.
func FindKernel(t testing.TB) Kernel {
	t.Helper()
	images, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(images)
	if len(images) == 0 {
		t.Skip("no guest kernel in /boot (make deps installs linux-image-amd64)")
	}
	img := images[len(images)-1]
	k := Kernel{Image: img, Version: strings.TrimPrefix(filepath.Base(img), "vmlinuz-")}
	seen := map[string]bool{}
	for _, mod := range []string{"virtio_pci", "virtio_net", "virtio_blk"} {
		out, err := exec.Command("modprobe", "-S", k.Version, "--show-depends", mod).Output()
		if err != nil {
			t.Skipf("modprobe --show-depends %s for kernel %s: %v (kmod)", mod, k.Version, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "insmod" && !seen[f[1]] {
				seen[f[1]] = true
				k.Modules = append(k.Modules, f[1])
			}
		}
	}
	return k
}

// BuildInitramfs writes a gzipped newc cpio holding busybox-static, the kernel's modules and
// /init (a busybox sh script that loads the modules and then runs script).
func BuildInitramfs(t testing.TB, k Kernel, script string) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed (make deps installs busybox-static)")
	}
	if f, err := elf.Open(bb); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Skip("busybox is not static (make deps installs busybox-static)")
			}
		}
		f.Close()
	}
	var init strings.Builder
	init.WriteString("#!/bin/busybox sh\n/bin/busybox --install -s /bin\nmount -t proc proc /proc\nmount -t sysfs sys /sys\n")
	files := map[string][]byte{}
	for _, m := range k.Modules {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		name := "lib/modules/" + filepath.Base(m)
		files[name] = data
		fmt.Fprintf(&init, "insmod /%s\n", name)
	}
	init.WriteString(script)
	bbData, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	files["bin/busybox"] = bbData
	files["init"] = []byte(init.String())
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	w := cpioWriter{w: zw}
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"} {
		w.add(d, 0o40755, nil)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w.add(n, 0o100755, files[n])
	}
	w.add("TRAILER!!!", 0, nil)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "initramfs.cpio.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cpioWriter writes the "newc" format (the kernel's initramfs format,
// Documentation/driver-api/early-userspace/buffer-format.rst).
type cpioWriter struct {
	w   interface{ Write([]byte) (int, error) }
	ino int
}

func (c *cpioWriter) add(name string, mode int, data []byte) {
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.w.Write([]byte(hdr))
	c.w.Write(append([]byte(name), 0))
	c.pad(len(hdr) + len(name) + 1)
	c.w.Write(data)
	c.pad(len(data))
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.w.Write(make([]byte, 4-r))
	}
}

// NetNS is a network namespace with one tap device in it.
type NetNS struct {
	Name, Tap, HostAddr, GuestAddr string
}

// NewNetNS creates a namespace with tap "tap0" at 192.0.2.1/24 (TEST-NET-1, RFC 5737: never
// routed) and loopback up, and no other device or route; it is deleted when the test ends.
func NewNetNS(t testing.TB, name string) NetNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace and a tap device needs root")
	}
	ns := NetNS{Name: name, Tap: "tap0", HostAddr: "192.0.2.1", GuestAddr: "192.0.2.2"}
	exec.Command("ip", "netns", "del", name).Run()
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	in := func(args ...string) { run(append([]string{"ip", "netns", "exec", name}, args...)...) }
	in("ip", "link", "set", "lo", "up")
	in("ip", "tuntap", "add", "dev", ns.Tap, "mode", "tap")
	// No IPv6 on the tap: the host side sends nothing the guest did not ask for.
	in("sysctl", "-q", "-w", "net.ipv6.conf."+ns.Tap+".disable_ipv6=1")
	in("ip", "addr", "add", ns.HostAddr+"/24", "dev", ns.Tap)
	in("ip", "link", "set", ns.Tap, "up")
	return ns
}

// QEMU is a running guest.
type QEMU struct {
	Cmd    *exec.Cmd
	Serial *e2e.SyncBuffer
}

// StartQEMU starts qemu-system-x86_64 inside ns (when ns.Name is set) with the given extra
// arguments after the common ones, and stops it when the test ends.
func StartQEMU(t testing.TB, ns NetNS, args ...string) *QEMU {
	t.Helper()
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (make deps installs qemu-system-x86)")
	}
	argv := []string{qemu, "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none"}
	argv = append(argv, args...)
	if ns.Name != "" {
		argv = append([]string{"ip", "netns", "exec", ns.Name}, argv...)
	}
	q := &QEMU{Serial: &e2e.SyncBuffer{}}
	q.Cmd = exec.Command(argv[0], argv[1:]...)
	q.Cmd.Stdout, q.Cmd.Stderr = q.Serial, q.Serial
	if err := q.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Cmd.Process.Kill()
		q.Cmd.Wait()
	})
	return q
}

// WaitSerial waits until the serial console printed marker, failing the test after timeout.
func (q *QEMU) WaitSerial(t testing.TB, marker string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s := q.Serial.String(); strings.Contains(s, marker) {
			return s
		}
		if q.Cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := q.Serial.String()
	if len(out) > 3000 {
		out = out[len(out)-3000:]
	}
	t.Fatalf("guest did not print %q within %v; console:\n%s", marker, timeout, out)
	return ""
}

// Lockdown returns the active kernel lockdown mode ("none" when off or unknown).
func Lockdown() string {
	b, err := os.ReadFile("/sys/kernel/security/lockdown")
	if err != nil {
		if exec.Command("mount", "-t", "securityfs", "none", "/sys/kernel/security").Run() == nil {
			defer exec.Command("umount", "/sys/kernel/security").Run()
		}
		if b, err = os.ReadFile("/sys/kernel/security/lockdown"); err != nil {
			return "none"
		}
	}
	s := string(b)
	if i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return "none"
}

// PVM reports whether this host's /dev/kvm is PVM (module kvm_pvm): a pagetable-based nested
// KVM that runs only guest kernels built for it. A stock kernel stops in its decompressor, so
// its guest accrues no guest time to speak of (0 or 1 tick in two minutes).
func PVM() bool {
	_, err := os.Stat("/sys/module/kvm_pvm")
	return err == nil
}
