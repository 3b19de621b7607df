package virtdetect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCaptureReproducesDetection captures a root laid out as a kernel lays it out (PCI functions
// as links into /sys/devices, an empty /proc/xen, a PCI bus with no device) and checks that the
// capture gives the same answer, keeps what git would drop, and keeps no secret.
func TestCaptureReproducesDetection(t *testing.T) {
	src := t.TempDir()
	write := func(p, content string) {
		full := filepath.Join(src, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	link := func(p, target string) {
		full := filepath.Join(src, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.Symlink(target, full))
	}
	write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n\n")
	write("proc/1/environ", "PATH=/bin\x00API_TOKEN=secret\x00container=docker\x00")
	write("proc/1/comm", "init\n")
	write("proc/1/mounts", "overlay / overlay rw,lowerdir=/var/lib/x/l/ABC,upperdir=/var/lib/x/u,workdir=/var/lib/x/w 0 0\nproc /proc proc rw 0 0\ntmpfs /secret tmpfs rw 0 0\n")
	write("sys/devices/system/clocksource/clocksource0/available_clocksource", "kvm-clock tsc \n")
	write("sys/devices/system/clocksource/clocksource0/current_clocksource", "kvm-clock\n")
	write("sys/devices/pci0000:00/0000:00:00.0/vendor", "0x8086\n")
	write("sys/devices/pci0000:00/0000:00:00.0/device", "0x29c0\n")
	link("sys/bus/pci/devices/0000:00:00.0", "../../../devices/pci0000:00/0000:00:00.0")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "proc/xen"), 0o755))

	dst := filepath.Join(t.TempDir(), "root")
	want, err := Capture(NewFS(src), FixedCPUID("KVMKVMKVM"), dst)
	require.NoError(t, err)
	got := Detect(NewFS(dst), FixedCPUID("KVMKVMKVM"))
	assert.Equal(t, want.Layers, got.Layers, "the capture gives the answer the source gave")
	assert.Equal(t, want.Role, got.Role)
	assert.Equal(t, []string{"hypervisor:xen", "container:docker"}, got.LayerNames(), "an empty /proc/xen still says Xen")

	b, err := os.ReadFile(filepath.Join(dst, "proc/1/environ"))
	require.NoError(t, err)
	assert.Equal(t, "container=docker\x00", string(b), "only the variables detection reads")
	b, err = os.ReadFile(filepath.Join(dst, "proc/1/mounts"))
	require.NoError(t, err)
	assert.Equal(t, "overlay / overlay rw 0 0\n", string(b), "only the mounts detection looks at, without the capturing machine's layer paths")

	target, err := os.Readlink(filepath.Join(dst, "sys/bus/pci/devices/0000:00:00.0"))
	require.NoError(t, err, "a PCI function stays a link")
	assert.Equal(t, "../../../devices/pci0000:00/0000:00:00.0", target)
	b, err = os.ReadFile(filepath.Join(dst, "sys/devices/pci0000:00/0000:00:00.0/device"))
	require.NoError(t, err, "and its target is captured")
	assert.Equal(t, "0x29c0\n", string(b))
	_, err = os.Stat(filepath.Join(dst, "proc/xen", keepFile))
	assert.NoError(t, err, "an empty directory that was asked about keeps a file, for git")
	checkNoEmptyDirectory(t, dst)

	// A PCI bus without a device: the listing is dropped, the bus kept.
	require.NoError(t, os.RemoveAll(filepath.Join(src, "sys/bus/pci/devices/0000:00:00.0")))
	dst2 := filepath.Join(t.TempDir(), "root")
	_, err = Capture(NewFS(src), FixedCPUID("KVMKVMKVM"), dst2)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dst2, "sys/bus/pci/devices"))
	assert.True(t, os.IsNotExist(err), "an empty listed directory is left out: it lists the same")
	_, err = os.Stat(filepath.Join(dst2, "sys/bus/pci", keepFile))
	assert.NoError(t, err, "the bus itself is kept")
	assert.Equal(t, Virtio{PCIBus: true}, ReadVirtio(NewFS(dst2)))
	checkNoEmptyDirectory(t, dst2)
}

// checkNoEmptyDirectory: git keeps no empty directory, so a fixture with one gives another answer
// once checked out (Capture writes a keep file into those that matter).
func checkNoEmptyDirectory(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		entries, err := os.ReadDir(p)
		if err == nil && len(entries) == 0 {
			t.Errorf("%s is an empty directory: git drops it", p)
		}
		return nil
	}))
}

func TestOverlayOptionsKeepOnlyWhatDetectionReads(t *testing.T) {
	assert.Equal(t, "rw,relatime,lowerdir=/overlay/image,xino=off",
		overlayOptions("rw,relatime,lowerdir=/overlay/image,upperdir=/overlay/upper,workdir=/overlay/work,xino=off"),
		"krata's lowerdir stays: it is how a zone's root is recognised")
	assert.Equal(t, "rw,uuid=on", overlayOptions("rw,lowerdir=/srv/storage/l/A:/srv/storage/l/B,upperdir=/srv/u,workdir=/srv/w,uuid=on"))
}
