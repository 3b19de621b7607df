package guesttest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LibvirtSocket is libvirtd's read-write socket on Debian (libvirt 9.0,
// src/remote/remote_driver.h LIBVIRTD_PRIV_UNIX_SOCKET under LOCALSTATEDIR /var).
const LibvirtSocket = "/var/run/libvirt/libvirt-sock"

// EnsureLibvirtd starts virtlogd and libvirtd (Debian's, no systemd) when nothing answers on
// LibvirtSocket, and stops what it started when the test ends. It skips without root or
// without libvirt installed. Tests of different packages run at once (go test -p) and share
// the one libvirtd: each holds an exclusive lock for its whole run, so that none stops the
// daemon under another's domain, and two TCG guests do not share the two cores.
func EnsureLibvirtd(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for libvirtd")
	}
	for _, tool := range []string{"virsh", "libvirtd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs libvirt-daemon-system and libvirt-clients)", tool)
		}
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "otelcol-virt-libvirt-tests.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock libvirt tests: %v", err)
	}
	t.Cleanup(func() { lock.Close() }) // registered first: released after libvirtd is stopped
	if c, err := net.Dial("unix", LibvirtSocket); err == nil {
		c.Close()
		return
	}
	for _, d := range []string{"virtlogd", "libvirtd"} {
		if out, err := exec.Command(d, "-d").CombinedOutput(); err != nil {
			t.Fatalf("%s -d: %v\n%s", d, err, out)
		}
		pidFile := "/run/" + d + ".pid"
		var pid int
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, err := os.ReadFile(pidFile)
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil && pid > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s wrote no %s", d, pidFile)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Cleanup(func() {
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", LibvirtSocket)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirt socket: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// DiskThenBurn is a guest script for StartLibvirtDomain: it writes 4 MiB to its disk and
// reads them back (page cache dropped), announces GUEST_READY and then only burns vCPU 0, so
// that its block counters stand still while tests compare readings taken apart in time.
const DiskThenBurn = `mount -t devtmpfs dev /dev
dd if=/dev/zero of=/dev/vda bs=64k count=64 conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda of=/dev/null bs=64k count=64 2>/dev/null
echo GUEST_READY
taskset 1 sh -c 'while :; do :; done' &
while :; do sleep 1000; done
`

// LibvirtDomain is a transient libvirt domain started by StartLibvirtDomain.
type LibvirtDomain struct {
	Name    string
	Disk    string // the raw image behind vda
	Console string // the serial console's log file
}

// StartLibvirtDomain creates a transient QEMU TCG domain (type 'qemu': stock guest kernels
// stall in their decompressor under this host's nested KVM) of
// two vCPUs booting k with initrd, with an 8 MiB raw disk as vda, its serial console to a
// file and a virtio balloon, and destroys it when the test ends. name must be unique on the
// host.
func StartLibvirtDomain(t testing.TB, k Kernel, initrd, name string) LibvirtDomain {
	t.Helper()
	// libvirt's qemu user must read the kernel, initramfs and disk and write the console log.
	dir, err := os.MkdirTemp("", "libvirt-guest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o777))
	data, err := os.ReadFile(initrd)
	must(err)
	must(os.WriteFile(filepath.Join(dir, "initrd"), data, 0o644))
	d := LibvirtDomain{Name: name, Disk: filepath.Join(dir, "disk.img"), Console: filepath.Join(dir, "console.log")}
	must(os.WriteFile(d.Disk, make([]byte, 8<<20), 0o666))
	xml := fmt.Sprintf(`<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>192</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel><initrd>%s</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>
    <serial type='file'><source path='%s'/></serial>
    <memballoon model='virtio'/>
  </devices>
</domain>`, name, k.Image, filepath.Join(dir, "initrd"), d.Disk, d.Console)
	xmlPath := filepath.Join(dir, "domain.xml")
	must(os.WriteFile(xmlPath, []byte(xml), 0o644))
	if out, err := exec.Command("virsh", "-c", "qemu:///system", "create", xmlPath).CombinedOutput(); err != nil {
		t.Fatalf("virsh create: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run() })
	return d
}

// StartLibvirtKVMDomain starts libvirtd if it is not running and a transient KVM domain
// (type 'kvm') of that name with two vCPUs and no disk: its firmware runs under this host's
// nested KVM, finds nothing to boot and waits, so that KVM counts exits and halts. It is
// destroyed when the test ends.
func StartLibvirtKVMDomain(t testing.TB, name string) LibvirtDomain {
	t.Helper()
	EnsureLibvirtd(t)
	dir := t.TempDir()
	xml := fmt.Sprintf(`<domain type='kvm'>
  <name>%s</name>
  <memory unit='MiB'>48</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>`, name)
	xmlPath := filepath.Join(dir, "domain.xml")
	if err := os.WriteFile(xmlPath, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("virsh", "-c", "qemu:///system", "create", xmlPath).CombinedOutput(); err != nil {
		t.Fatalf("virsh create: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run() })
	return LibvirtDomain{Name: name}
}

// WaitConsole waits until the domain's console shows marker.
func (d LibvirtDomain) WaitConsole(t testing.TB, marker string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(d.Console)
		if strings.Contains(string(b), marker) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("domain %s: no %q on its console within %s:\n%s", d.Name, marker, timeout, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// PID is the domain's qemu process, from the pid file libvirt's qemu driver keeps
// (src/qemu/qemu_process.c, qemuProcessLaunch: <stateDir>/<name>.pid, /run/libvirt/qemu).
func (d LibvirtDomain) PID(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/run/libvirt/qemu/" + d.Name + ".pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file of %s: %v", d.Name, err)
	}
	return pid
}

// Domstats runs `virsh domstats --vcpu --block --cpu-total` for the domain and returns its
// numeric key=value pairs.
func (d LibvirtDomain) Domstats(t testing.TB) map[string]uint64 {
	t.Helper()
	out, err := exec.Command("virsh", "-c", "qemu:///system", "domstats", "--vcpu", "--block", "--cpu-total", d.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("virsh domstats: %v\n%s", err, out)
	}
	m := map[string]uint64{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}

// StartDiskThenBurnDomain starts libvirtd if it is not running and a domain of that name
// booting Debian's kernel with the DiskThenBurn guest, and waits until the guest is ready: its
// disk counters stand still from then on, and vCPU 0's time grows.
func StartDiskThenBurnDomain(t testing.TB, name string) LibvirtDomain {
	t.Helper()
	EnsureLibvirtd(t)
	k := FindKernel(t)
	dom := StartLibvirtDomain(t, k, BuildInitramfs(t, k, DiskThenBurn), name)
	dom.WaitConsole(t, "GUEST_READY", 3*time.Minute)
	return dom
}
