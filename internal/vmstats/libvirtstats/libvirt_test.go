package libvirtstats

import (
	"context"
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

const guestScript = `mount -t devtmpfs dev /dev
echo GUEST_READY
taskset 1 sh -c 'while :; do :; done' &
while :; do
  dd if=/dev/zero of=/dev/vda bs=64k count=32 conv=fsync 2>/dev/null
  echo 3 > /proc/sys/vm/drop_caches
  dd if=/dev/vda of=/dev/null bs=64k count=32 2>/dev/null
  sleep 1
done
`

// ensureLibvirtd starts virtlogd and libvirtd (Debian's, no systemd) when nothing answers on
// the socket, and stops what it started when the test ends.
func ensureLibvirtd(t *testing.T) {
	if c, err := net.Dial("unix", DefaultSocket); err == nil {
		c.Close()
		return
	}
	if _, err := exec.LookPath("libvirtd"); err != nil {
		t.Skip("libvirtd not installed (make deps installs libvirt-daemon-system)")
	}
	for _, d := range []string{"virtlogd", "libvirtd"} {
		if out, err := exec.Command(d, "-d").CombinedOutput(); err != nil {
			t.Fatalf("%s -d: %v\n%s", d, err, out)
		}
		pidFile := "/run/" + d + ".pid"
		var pid int
		require.Eventually(t, func() bool {
			b, err := os.ReadFile(pidFile)
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			return err == nil && pid > 0
		}, 10*time.Second, 100*time.Millisecond, pidFile)
		t.Cleanup(func() {
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	require.Eventually(t, func() bool {
		c, err := net.Dial("unix", DefaultSocket)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 200*time.Millisecond, "libvirt socket")
}

// domstats runs `virsh domstats` for one domain and returns its key=value pairs.
func domstats(t *testing.T, name string) map[string]uint64 {
	out, err := exec.Command("virsh", "-c", "qemu:///system", "domstats", "--vcpu", "--block", "--cpu-total", name).CombinedOutput()
	require.NoError(t, err, "%s", out)
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

// TestLibvirtDomainStats runs a real libvirt domain (QEMU TCG: libvirt's qemu user cannot
// open /dev/kvm here) booting Debian's kernel with a busybox initramfs that burns one vCPU
// and reads and writes its disk, and checks the figures read over the libvirt socket
// against `virsh domstats`, taken between two of our readings.
func TestLibvirtDomainStats(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a libvirt domain")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for libvirtd")
	}
	if _, err := exec.LookPath("virsh"); err != nil {
		t.Skip("virsh not installed (make deps installs libvirt-clients)")
	}
	ensureLibvirtd(t)
	k := guesttest.FindKernel(t)
	initrd := guesttest.BuildInitramfs(t, k, guestScript)

	// libvirt's qemu user must read the kernel, initramfs and disk and write the console log.
	dir, err := os.MkdirTemp("", "vmstats-libvirt-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	data, err := os.ReadFile(initrd)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "initrd"), data, 0o644))
	disk := filepath.Join(dir, "disk.img")
	require.NoError(t, os.WriteFile(disk, make([]byte, 8<<20), 0o666))
	console := filepath.Join(dir, "console.log")

	name := fmt.Sprintf("vmstats-test-%d", os.Getpid())
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
</domain>`, name, k.Image, filepath.Join(dir, "initrd"), disk, console)
	xmlPath := filepath.Join(dir, "domain.xml")
	require.NoError(t, os.WriteFile(xmlPath, []byte(xml), 0o644))
	out, err := exec.Command("virsh", "-c", "qemu:///system", "create", xmlPath).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run() })

	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(console)
		return strings.Contains(string(b), "GUEST_READY")
	}, 3*time.Minute, 500*time.Millisecond, "guest boots")
	time.Sleep(5 * time.Second) // some vCPU time and disk traffic

	c := Client{}
	find := func() Domain {
		doms, err := c.Collect(context.Background())
		require.NoError(t, err)
		for _, d := range doms {
			if d.Name == name {
				return d
			}
		}
		t.Fatalf("domain %s not in the stats of %d domains", name, len(doms))
		return Domain{}
	}
	before := find()
	virsh := domstats(t, name)
	after := find()

	require.Len(t, after.VCPUs, 2)
	assert.Equal(t, 1, after.State, "running")
	assert.Len(t, after.UUID, 36)
	type pair struct {
		key           string
		before, after uint64
	}
	pairs := []pair{{"cpu.time", before.CPUTime, after.CPUTime}}
	for i := range after.VCPUs {
		p := "vcpu." + strconv.Itoa(i) + "."
		pairs = append(pairs, pair{p + "time", before.VCPUs[i].TimeNS, after.VCPUs[i].TimeNS})
		if after.VCPUs[i].HasWait {
			pairs = append(pairs, pair{p + "wait", before.VCPUs[i].WaitNS, after.VCPUs[i].WaitNS})
		}
		if after.VCPUs[i].HasDelay {
			pairs = append(pairs, pair{p + "delay", before.VCPUs[i].DelayNS, after.VCPUs[i].DelayNS})
		}
	}
	require.Len(t, after.Blocks, 1)
	assert.Equal(t, "vda", after.Blocks[0].Name)
	assert.Equal(t, disk, after.Blocks[0].Path)
	for _, f := range []struct {
		key  string
		b, a uint64
	}{
		{"rd.bytes", before.Blocks[0].RdBytes, after.Blocks[0].RdBytes},
		{"rd.reqs", before.Blocks[0].RdReqs, after.Blocks[0].RdReqs},
		{"wr.bytes", before.Blocks[0].WrBytes, after.Blocks[0].WrBytes},
		{"wr.reqs", before.Blocks[0].WrReqs, after.Blocks[0].WrReqs},
		{"capacity", before.Blocks[0].CapacityBytes, after.Blocks[0].CapacityBytes},
	} {
		pairs = append(pairs, pair{"block.0." + f.key, f.b, f.a})
	}
	for _, p := range pairs {
		v, ok := virsh[p.key]
		if !assert.True(t, ok, "virsh domstats has %s", p.key) {
			continue
		}
		t.Logf("%-16s ours %d .. %d, virsh %d", p.key, p.before, p.after, v)
		assert.LessOrEqual(t, p.before, v, p.key)
		assert.LessOrEqual(t, v, p.after, p.key)
		if v > 0 {
			assert.InEpsilon(t, float64(v), float64(p.after), 0.05, p.key)
		}
	}
	// The burning vCPU 0 ran far more than vCPU 1; the disk was read and written.
	assert.Greater(t, after.VCPUs[0].TimeNS, 2*after.VCPUs[1].TimeNS)
	assert.Greater(t, after.Blocks[0].WrBytes, uint64(2<<20))
	assert.Greater(t, after.Blocks[0].RdBytes, uint64(1<<20))
	assert.Equal(t, uint64(8<<20), after.Blocks[0].CapacityBytes)
	assert.Greater(t, after.Balloon.CurrentKiB, uint64(0))
}
