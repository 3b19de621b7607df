package qmp

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startQEMU runs a VM with a blank disk (its firmware finds nothing to boot and waits,
// halting its vCPUs now and then), a balloon device unless noBalloon, and a QMP socket.
func startQEMU(t *testing.T, accel string, noBalloon bool) (sock string, pid int) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts QEMU")
	}
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (make deps installs qemu-system-x86)")
	}
	if accel == "kvm" {
		f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
		if err != nil {
			t.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
		}
		f.Close()
	}
	dir := t.TempDir()
	sock = filepath.Join(dir, "vm.qmp")
	disk := filepath.Join(dir, "disk.img") // blank: the firmware reads its boot sector and gives up
	require.NoError(t, os.WriteFile(disk, make([]byte, 1<<20), 0o644))
	args := []string{"-accel", accel, "-smp", "2", "-m", "64", "-nodefaults", "-display", "none",
		"-drive", "file=" + disk + ",format=raw,if=none,id=disk0", "-device", "virtio-blk-pci,drive=disk0,bootindex=1",
		"-name", "guest=qmp-" + accel + ",debug-threads=on", "-qmp", "unix:" + sock + ",server=on,wait=off"}
	if !noBalloon {
		args = append(args, "-device", "virtio-balloon-pci")
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, 20*time.Second, 50*time.Millisecond, "QMP socket: %s", &stderr)
	return sock, cmd.Process.Pid
}

// TestLiveKVM asks a real KVM guest's monitor: two vCPUs whose thread ids are QEMU's "CPU n/KVM"
// threads, and exits that grow while the firmware runs. With QMP_CAPTURE=<dir> it writes the
// exchange's lines into <dir> (the fixtures of qmp_test.go).
func TestLiveKVM(t *testing.T) {
	sock, pid := startQEMU(t, "kvm", false)
	var lines [][]byte
	c := Client{Socket: sock, record: func(l []byte) { lines = append(lines, bytes.Clone(l)) }}
	st, err := c.Query(context.Background())
	require.NoError(t, err)
	first := st.VCPUs
	require.Len(t, first, 2)
	for i, v := range first {
		assert.Equal(t, i, v.Index)
		comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(v.ThreadID), "comm"))
		require.NoError(t, err, "vCPU %d's thread is QEMU's", i)
		assert.Equal(t, "CPU "+strconv.Itoa(i)+"/KVM", strings.TrimSpace(string(comm)))
	}
	require.Greater(t, first[0].Stats.Exits, uint64(0), "the boot vCPU has exited to the host")
	var second []VCPU
	time.Sleep(time.Second) // the firmware runs on
	require.Eventually(t, func() bool {
		lines = lines[:0]
		st, err = c.Query(context.Background())
		second = st.VCPUs
		return err == nil && len(second) == 2 && second[0].Stats.Exits > first[0].Stats.Exits &&
			len(st.Blocks) == 1 && st.Blocks[0].RdOps > 0
	}, 30*time.Second, 200*time.Millisecond, "KVM exits increase, and the firmware reads the boot sector")
	t.Logf("vCPU 0 exits %d -> %d, halt exits %d -> %d", first[0].Stats.Exits, second[0].Stats.Exits, first[0].Stats.HaltExits, second[0].Stats.HaltExits)
	assert.GreaterOrEqual(t, second[0].Stats.HaltExits, first[0].Stats.HaltExits, "cumulative")
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, 2, st.CPUs)
	assert.Equal(t, uint64(64<<20), st.MemoryBytes, "-m 64")
	assert.True(t, st.HasBalloon)
	assert.Equal(t, uint64(64<<20), st.BalloonBytes, "no guest driver: the balloon holds nothing")
	// The firmware read the disk's boot sector: one 512-byte request (more if it retried).
	require.Len(t, st.Blocks, 1)
	assert.Equal(t, "disk0", st.Blocks[0].Device)
	assert.GreaterOrEqual(t, st.Blocks[0].RdOps, uint64(1))
	assert.Equal(t, 512*st.Blocks[0].RdOps, st.Blocks[0].RdBytes)
	assert.Zero(t, st.Blocks[0].WrBytes)
	if dir := os.Getenv("QMP_CAPTURE"); dir != "" {
		require.Len(t, lines, 8)
		for i, name := range []string{"greeting.json", "qmp_capabilities.json", "query-status.json", "query-memory-size-summary.json", "query-cpus-fast.json", "query-stats.json", "query-blockstats.json", "query-balloon.json"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), append(lines[i], '\n'), 0o644))
		}
	}
}

// A TCG guest keeps no KVM statistics (NotKVM, which the receiver does not report), and its
// disks are counted all the same.
func TestLiveTCG(t *testing.T) {
	sock, _ := startQEMU(t, "tcg", false)
	var st Stats
	require.Eventually(t, func() bool {
		var err error
		st, err = Client{Socket: sock}.Query(context.Background())
		require.NoError(t, err)
		return len(st.Blocks) == 1 && st.Blocks[0].RdOps > 0
	}, 20*time.Second, 200*time.Millisecond, "the boot sector read")
	assert.True(t, st.NotKVM)
	assert.Nil(t, st.VCPUs)
}

// Without a balloon device QEMU answers query-balloon with DeviceNotActive: no balloon, no
// error.
func TestLiveNoBalloon(t *testing.T) {
	sock, _ := startQEMU(t, "tcg", true)
	st, err := Client{Socket: sock}.Query(context.Background())
	require.NoError(t, err)
	assert.False(t, st.HasBalloon)
	assert.Equal(t, uint64(64<<20), st.MemoryBytes)
}
