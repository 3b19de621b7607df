package proc

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	st, comm, err := ParseStat(fixture(t, "stat.pid1"))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 1, State: 'S', PPID: 0, MinFlt: 47788, CMinFlt: 25390216, MajFlt: 0, CMajFlt: 4658, UTime: 98, STime: 483, CUTime: 50673, CSTime: 10806, NumThreads: 13, StartTime: 24, VSize: 48259072, RSS: 4102}
	if st != want || string(comm) != "process_api" {
		t.Errorf("got %+v %q\nwant %+v", st, comm, want)
	}

	st, comm, err = ParseStat(fixture(t, "stat.weird_comm"))
	if err != nil {
		t.Fatal(err)
	}
	if string(comm) != "my (weird) comm" || st.PID != 4242 || st.PPID != 1 || st.UTime != 250 || st.STime != 75 || st.MajFlt != 3 || st.NumThreads != 4 || st.StartTime != 123456 || st.RSS != 2560 {
		t.Errorf("weird comm: got %+v %q", st, comm)
	}

	for _, bad := range []string{"", "1 (x", "x (a) S 1", "1 (a) S 1 2 3", "1 (a) SS 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 1 1 1",
		"1 (a) S 0 0 0 0 -1 0 0 0 0 0 x 0 0 0 0 0 1 0 1 1 1"} {
		if _, _, err := ParseStat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStat(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus(fixture(t, "status"))
	if err != nil {
		t.Fatal(err)
	}
	if st.VoluntaryCtxtSwitches == 0 && st.NonvoluntaryCtxtSwitches == 0 {
		t.Errorf("no context switches parsed: %+v", st)
	}
	if st.VmRSS == 0 || st.VmRSS%1024 != 0 {
		t.Errorf("VmRSS %d not converted from kB", st.VmRSS)
	}
	if st.InnermostPID != 1 {
		t.Errorf("NSpid of pid 1 parsed as %d", st.InnermostPID)
	}
	// A process two pid namespaces down (host pid 48213, 310 in the pod, 7 in its own).
	st, err = ParseStatus([]byte("Name:\tx\nNSpid:\t48213\t310\t7\nvoluntary_ctxt_switches:\t1\n"))
	if err != nil || st.InnermostPID != 7 {
		t.Errorf("nested NSpid: got %+v, %v", st, err)
	}
	st, err = ParseStatus([]byte("Name:\tx\nVmRSS:\t  12 kB\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n"))
	if err != nil || st != (Status{VoluntaryCtxtSwitches: 7, NonvoluntaryCtxtSwitches: 3, VmRSS: 12 * 1024}) {
		t.Errorf("got %+v, %v", st, err)
	}
	for _, bad := range []string{"", "Name: x\n", "VmRSS: lots kB\n", "NSpid:\t12\tx\nVmRSS: 1 kB\n", "NSpid:\nVmRSS: 1 kB\n"} {
		if _, err := ParseStatus([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStatus(%q) err = %v", bad, err)
		}
	}
}

func TestParseOpenFilesLimit(t *testing.T) {
	n, err := ParseOpenFilesLimit(fixture(t, "limits"))
	if err != nil || n != 20000 {
		t.Errorf("got %d, %v; want 20000", n, err)
	}
	n, err = ParseOpenFilesLimit([]byte("Max open files            unlimited            unlimited            files\n"))
	if err != nil || n != Unlimited {
		t.Errorf("unlimited: got %d, %v", n, err)
	}
	for _, bad := range []string{"", "Max open files", "Max open files  many  many files"} {
		if _, err := ParseOpenFilesLimit([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseOpenFilesLimit(%q) err = %v", bad, err)
		}
	}
}

func TestParseCmdline(t *testing.T) {
	got := ParseCmdline(fixture(t, "cmdline.wasmtime"))
	want := []string{"hello", "world.wasm", "--dir", "/data"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if ParseCmdline(nil) != nil || ParseCmdline([]byte("\x00")) != nil {
		t.Error("empty cmdline (kernel thread or zombie) should give no arguments")
	}
}

func TestParseCgroup(t *testing.T) {
	lines, err := ParseCgroup(fixture(t, "cgroup.hybrid"))
	if err != nil {
		t.Fatal(err)
	}
	byCtrl := map[string]string{}
	for _, l := range lines {
		if len(l.Controllers) == 0 {
			byCtrl[""] = l.Path
		}
		for _, c := range l.Controllers {
			byCtrl[c] = l.Path
		}
	}
	if byCtrl["memory"] == "" || byCtrl["cpu"] != "/" || byCtrl[""] != "/" || byCtrl["name=systemd"] != "/" {
		t.Errorf("hybrid: %v", byCtrl)
	}
	lines, err = ParseCgroup(fixture(t, "cgroup.v1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 5 || len(lines[1].Controllers) != 2 || lines[1].Controllers[1] != "cpuacct" || lines[4].HierarchyID != 0 {
		t.Errorf("v1: %+v", lines)
	}
	lines, err = ParseCgroup(fixture(t, "cgroup.v2"))
	if err != nil || len(lines) != 1 || lines[0].Controllers != nil {
		t.Errorf("v2: %+v %v", lines, err)
	}
	for _, bad := range []string{"", "0", "0:", "x::/", "0::relative"} {
		if _, err := ParseCgroup([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCgroup(%q) err = %v", bad, err)
		}
	}
}

func TestScanNetTCP(t *testing.T) {
	count := func(name string) map[string]int {
		m := map[string]int{}
		if err := ScanNetTCP(fixture(t, name), func(state uint8, inode uint64) {
			m[TCPStates[state]]++
		}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := count("net_tcp"); m["listen"] != 1 || m["time_wait"] != 3 {
		t.Errorf("tcp: %v", m)
	}
	if m := count("net_tcp6"); m["listen"] != 1 || m["established"] != 2 {
		t.Errorf("tcp6: %v", m)
	}
	var inodes []uint64
	_ = ScanNetTCP(fixture(t, "net_tcp6"), func(_ uint8, inode uint64) { inodes = append(inodes, inode) })
	if len(inodes) != 3 || inodes[0] != 54334 {
		t.Errorf("inodes %v", inodes)
	}
	if err := ScanNetTCP([]byte("hdr\n 0: a b ZZ 0 0 0 0 0 1\n"), func(uint8, uint64) {}); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad state accepted: %v", err)
	}
	if ino, ok := SocketInode([]byte("socket:[54334]")); !ok || ino != 54334 {
		t.Errorf("SocketInode = %d %v", ino, ok)
	}
	for _, bad := range []string{"pipe:[1]", "socket:[]", "socket:[x]", "/dev/null"} {
		if _, ok := SocketInode([]byte(bad)); ok {
			t.Errorf("SocketInode(%q) accepted", bad)
		}
	}
}

func TestParseBootTime(t *testing.T) {
	bt, err := ParseBootTime(fixture(t, "proc_stat"))
	if err != nil || bt < 1_000_000_000 {
		t.Errorf("got %d, %v", bt, err)
	}
	if _, err := ParseBootTime([]byte("cpu 1 2 3\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("missing btime: %v", err)
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "-1": -1, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63} {
		if got, ok := bytesparse.Atoi([]byte(in)); !ok || got != want {
			t.Errorf("bytesparse.Atoi(%q) = %d %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "-", "9223372036854775808", "18446744073709551616", "1x"} {
		if _, ok := bytesparse.Atoi([]byte(bad)); ok {
			t.Errorf("bytesparse.Atoi(%q) accepted", bad)
		}
	}
	if v, ok := bytesparse.Atou([]byte("18446744073709551615")); !ok || v != 1<<64-1 {
		t.Errorf("atou max = %d %v", v, ok)
	}
}

func TestScanNetDev(t *testing.T) {
	scan := func(data []byte) (map[string]NetDev, error) {
		out := map[string]NetDev{}
		err := ScanNetDev(data, func(iface []byte, d NetDev) { out[string(iface)] = d })
		return out, err
	}
	got, err := scan(fixture(t, "net_dev"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["eth0"].RxBytes != 527137721 || got["eth0"].TxBytes != 3435260 || got["eth0"].RxPackets != 37663 {
		t.Errorf("captured net/dev: %+v", got)
	}
	in := "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n" +
		"  eth0: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0\n" +
		"  tap0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n"
	got, err = scan([]byte(in))
	want := map[string]NetDev{
		"eth0": {RxBytes: 5000, TxBytes: 7000, RxPackets: 50, TxPackets: 70, RxErrors: 1, TxErrors: 3, RxDropped: 2, TxDropped: 4},
		"tap0": {RxBytes: 100, TxBytes: 200, RxPackets: 1, TxPackets: 2},
	}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("got %+v %v, want %+v (loopback excluded)", got, err, want)
	}
	for _, bad := range []string{"h\nh\neth0 1 2\n", "h\nh\neth0: 1 2 3\n", "h\nh\neth0: x 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"} {
		if _, err := scan([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ScanNetDev(%q) = %v", bad, err)
		}
	}
}

func TestNetDevGuestView(t *testing.T) {
	host := NetDev{RxBytes: 100, RxPackets: 2, RxErrors: 3, RxDropped: 4, TxBytes: 500, TxPackets: 6, TxErrors: 7, TxDropped: 8}
	want := NetDev{RxBytes: 500, RxPackets: 6, RxErrors: 7, RxDropped: 8, TxBytes: 100, TxPackets: 2, TxErrors: 3, TxDropped: 4}
	if got := host.GuestView(); got != want {
		t.Errorf("GuestView = %+v, want %+v", got, want)
	}
	if got := host.GuestView().GuestView(); got != host {
		t.Errorf("GuestView twice = %+v, want %+v", got, host)
	}
}
