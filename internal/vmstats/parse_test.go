package vmstats

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/proc"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func captured(t testing.TB, pattern string) []byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", "capture", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, m, pattern)
	b, err := os.ReadFile(m[0])
	require.NoError(t, err)
	return b
}

func TestParseTaskStat(t *testing.T) {
	st, comm, err := ParseTaskStat(fixture(t, "stat.kvm_vcpu"))
	require.NoError(t, err)
	assert.Equal(t, "CPU 0/KVM", string(comm))
	assert.Equal(t, TaskCPU{UTime: 1, STime: 3018, Processor: 1, State: 'R', Flags: 138412224}, st)

	// Guest time is part of user time (account_guest_time): the VMM's own user time is the rest.
	line := statLine("qemu-system-x86", map[int]string{3: "S", 14: "900", 15: "250", 39: "1", 43: "700", 44: "5"})
	st, comm, err = ParseTaskStat([]byte(line))
	require.NoError(t, err)
	assert.Equal(t, "qemu-system-x86", string(comm))
	assert.Equal(t, TaskCPU{UTime: 900, STime: 250, GuestTime: 700, CGuestTime: 5, Processor: 1, State: 'S'}, st)
	assert.Equal(t, uint64(200), st.VMMUserTime())
	assert.Equal(t, uint64(0), TaskCPU{UTime: 3, GuestTime: 5}.VMMUserTime(), "sampled apart: never wraps")

	for _, bad := range []string{"", "1 (x) R 1 2 3", "x (y) R" + line[14:], "1 (x) RR" + line[20:], "1 x) R 1"} {
		_, _, err := ParseTaskStat([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	// The captured vCPU threads of the real guest parse.
	_, comm, err = ParseTaskStat(captured(t, "task/*/stat"))
	require.NoError(t, err)
	idx, vmm, ok := VCPUIndex(comm)
	assert.True(t, ok)
	assert.Equal(t, VMMQEMU, vmm)
	assert.Equal(t, 0, idx)
}

// statLine builds a 52-field stat line (proc(5)) with the given fields set, others 0.
func statLine(comm string, set map[int]string) string {
	b := "42 (" + comm + ")"
	for k := 3; k <= 52; k++ {
		v, ok := set[k]
		if !ok {
			v = "0"
		}
		b += " " + v
	}
	return b + "\n"
}

func TestParseSchedstat(t *testing.T) {
	s, err := ParseSchedstat([]byte("30195320293 166976834 463\n"))
	require.NoError(t, err)
	assert.Equal(t, Schedstat{RunNS: 30195320293, WaitNS: 166976834, Timeslices: 463}, s)
	_, err = ParseSchedstat(captured(t, "task/*/schedstat"))
	require.NoError(t, err)
	for _, bad := range []string{"", "1 2", "1 2 3 4", "1 -2 3", "a b c"} {
		_, err := ParseSchedstat([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestVCPUIndex(t *testing.T) {
	for _, c := range []struct {
		comm string
		idx  int
		vmm  VMM
		ok   bool
	}{
		{"CPU 0/KVM", 0, VMMQEMU, true},
		{"CPU 17/TCG", 17, VMMQEMU, true},
		{"fc_vcpu 3", 3, VMMFirecracker, true},
		{"vcpu12", 12, VMMCloudHypervisor, true},
		{"crosvm_vcpu7", 7, VMMCrosvm, true},
		{"ALL CPUs/TCG", 0, VMMUnknown, false},
		{"CPU 0/", 0, VMMUnknown, false},
		{"CPU /KVM", 0, VMMUnknown, false},
		{"vcpu", 0, VMMUnknown, false},
		{"vcpu01", 0, VMMUnknown, false},
		{"vcpu99999", 0, VMMUnknown, false},
		{"fc_api", 0, VMMUnknown, false},
		{"qemu-system-x86", 0, VMMUnknown, false},
	} {
		idx, vmm, ok := VCPUIndex([]byte(c.comm))
		assert.Equal(t, c.ok, ok, c.comm)
		assert.Equal(t, c.idx, idx, c.comm)
		assert.Equal(t, c.vmm, vmm, c.comm)
	}
	n, ok := KVMVCPUFd([]byte("anon_inode:kvm-vcpu:1"))
	assert.True(t, ok)
	assert.Equal(t, 1, n)
	_, ok = KVMVCPUFd([]byte("anon_inode:kvm-vm"))
	assert.False(t, ok)
	assert.True(t, IsKVMVMFd([]byte("anon_inode:kvm-vm")))
}

func TestParseSyscall(t *testing.T) {
	s, err := ParseSyscall([]byte("16 0xc 0xae80 0x0 0x0 0x5606c84b2290 0x5606c8ba1260 0x7f9ad6ffc530 0x7f9ad8d97d6b\n"))
	require.NoError(t, err)
	assert.Equal(t, uint64(16), s.Nr)
	assert.Equal(t, uint64(0xc), s.Args[0])
	assert.Equal(t, uint64(kvmRun), s.Args[1])
	s, err = ParseSyscall([]byte("running\n"))
	require.NoError(t, err)
	assert.True(t, s.Running)
	s, err = ParseSyscall([]byte("-1 0x7ffd 0x4a5\n"))
	require.NoError(t, err)
	assert.Equal(t, ^uint64(0), s.Nr)
	for _, bad := range []string{"", "16 0xc", "16 c 0xae80 0x0 0x0 0x0 0x0 0x0 0x0", "x 0x1 0x1 0x1 0x1 0x1 0x1 0x1 0x1"} {
		_, err := ParseSyscall([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestParseTunFdinfo(t *testing.T) {
	name, ok, err := ParseTunFdinfo(fixture(t, "fdinfo.tun"))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "tap0", string(name))
	_, ok, err = ParseTunFdinfo([]byte("pos:\t0\nflags:\t02\n"))
	assert.NoError(t, err)
	assert.False(t, ok, "a tun descriptor not attached yet")
	for _, bad := range []string{"iff:\t\n", "iff:\ta/b\n", "iff:\tname-longer-than-15\n", "iff:\ta b\n"} {
		_, _, err := ParseTunFdinfo([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	idx, ok := MacvtapIfindex([]byte("/dev/tap12"))
	assert.True(t, ok)
	assert.Equal(t, 12, idx)
	_, ok = MacvtapIfindex([]byte("/dev/tapx"))
	assert.False(t, ok)
}

func TestTapNamesFromCmdline(t *testing.T) {
	args := func(a ...string) []byte {
		var b []byte
		for _, s := range a {
			b = append(append(b, s...), 0)
		}
		return b
	}
	assert.Equal(t, []string{"tap0", "vnet3"}, TapNamesFromCmdline(args("qemu-system-x86_64", "-netdev",
		"tap,id=n0,ifname=tap0,script=no", "-nic", "tap,ifname=vnet3,model=virtio", "-netdev", "user,id=u0,hostfwd=tcp::1-:2,ifname=no")))
	assert.Equal(t, []string{"a,b"}, TapNamesFromCmdline(args("qemu", "-netdev", "tap,id=n,ifname=a,,b")), `",," is a comma`)
	assert.Empty(t, TapNamesFromCmdline(args("qemu", "-netdev", "tap,id=n,ifname=a,,b")[0:0]))
	assert.Equal(t, []string{"ch0", "ch1"}, TapNamesFromCmdline(args("cloud-hypervisor", "--net", "tap=ch0,mac=12:34:56:78:90:ab", "tap=ch1", "--cpus", "boot=2")))
	assert.Equal(t, []string{"ch2"}, TapNamesFromCmdline(args("cloud-hypervisor", "--net=tap=ch2,ip=192.0.2.1")))
	assert.Equal(t, []string{"cv0", "cv1"}, TapNamesFromCmdline(args("crosvm", "run", "--tap-name", "cv0", "--net", "tap-name=cv1", "vmlinux")))
	assert.Empty(t, TapNamesFromCmdline(args("qemu", "-netdev", "tap,ifname=this-name-is-too-long")))
}

// The captured net/dev through proc.ScanNetDev, the parser the receiver uses too: the tap
// is there with the guest's pings, and GuestView turns the host's side into the guest's.
func TestCapturedNetDev(t *testing.T) {
	got := map[string]NetCounters{}
	require.NoError(t, proc.ScanNetDev(captured(t, "net/dev"), func(name []byte, c NetCounters) { got[string(name)] = c }))
	require.Contains(t, got, "tap0")
	assert.Greater(t, got["tap0"].RxBytes, uint64(40000), "the guest's pings, as the tap received them")
	assert.Equal(t, got["tap0"].RxBytes, got["tap0"].GuestView().TxBytes)
	assert.Equal(t, got["tap0"].TxPackets, got["tap0"].GuestView().RxPackets)
}

func TestParseProcIO(t *testing.T) {
	p, err := ParseProcIO([]byte("rchar: 8838331\nwchar: 568\nsyscr: 101\nsyscw: 318\nread_bytes: 9109504\nwrite_bytes: 20480\ncancelled_write_bytes: 0\n"))
	require.NoError(t, err)
	assert.Equal(t, ProcIO{RChar: 8838331, WChar: 568, Syscr: 101, Syscw: 318, ReadBytes: 9109504, WriteBytes: 20480}, p)
	_, err = ParseProcIO(captured(t, "io"))
	require.NoError(t, err)
	for _, bad := range []string{"", "rchar: 1\n", "rchar 1\n", "rchar: -1\nwchar: 1\nsyscr: 1\nsyscw: 1\nread_bytes: 1\nwrite_bytes: 1\ncancelled_write_bytes: 0\n"} {
		_, err := ParseProcIO([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestParseKVMDirName(t *testing.T) {
	pid, fd, ok := ParseKVMDirName("9253-8")
	assert.True(t, ok)
	assert.Equal(t, 9253, pid)
	assert.Equal(t, 8, fd)
	for _, bad := range []string{"exits", "vcpu0", "-8", "12-", "0-3", "1-2-3"} {
		_, _, ok := ParseKVMDirName(bad)
		assert.False(t, ok, bad)
	}
}
