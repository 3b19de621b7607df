package vmstats

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// buildTree lays out nVMs VMM processes of nVCPU vCPUs each under dir, as /proc shows them,
// from the files of a real guest (testdata/capture): every VM has the captured stat and io,
// its vCPU threads the captured task files renamed "CPU n/KVM", a /dev/net/tun descriptor on
// tap<i>, and all share one network namespace whose net/dev lists every tap.
func buildTree(tb testing.TB, dir string, nVMs, nVCPU int) []int {
	stat := captured(tb, "stat")
	io := captured(tb, "io")
	vstat := captured(tb, "task/*/stat")
	sched := captured(tb, "task/*/schedstat")
	netdev := captured(tb, "net/dev")
	hdr := bytes.SplitAfterN(netdev, []byte("\n"), 3)
	var tapLine []byte
	for _, l := range bytes.Split(netdev, []byte("\n")) {
		if bytes.Contains(l, []byte("tap0:")) {
			tapLine = l
		}
	}
	var nd bytes.Buffer
	nd.Write(hdr[0])
	nd.Write(hdr[1])
	for i := 0; i < nVMs; i++ {
		nd.Write(bytes.Replace(tapLine, []byte("  tap0:"), []byte(fmt.Sprintf("%6s:", "tap"+strconv.Itoa(i))), 1))
		nd.WriteByte('\n')
	}
	write := func(p string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	var pids []int
	for i := 0; i < nVMs; i++ {
		pid := 10000 + i*100
		pids = append(pids, pid)
		base := filepath.Join(dir, strconv.Itoa(pid))
		write(base+"/stat", stat)
		write(base+"/io", io)
		write(base+"/net/dev", nd.Bytes())
		write(base+"/fdinfo/9", []byte("pos:\t0\nflags:\t0104002\nmnt_id:\t15\nino:\t104\niff:\ttap"+strconv.Itoa(i)+"\n"))
		os.MkdirAll(base+"/fd", 0o755)
		os.MkdirAll(base+"/ns", 0o755)
		if err := os.Symlink("/dev/net/tun", base+"/fd/9"); err != nil {
			tb.Fatal(err)
		}
		os.Symlink("net:[4026531840]", base+"/ns/net")
		for v := 0; v < nVCPU; v++ {
			task := filepath.Join(base, "task", strconv.Itoa(pid+1+v))
			write(task+"/comm", []byte(fmt.Sprintf("CPU %d/KVM\n", v)))
			write(task+"/stat", vstat)
			write(task+"/schedstat", sched)
		}
	}
	return pids
}

// BenchmarkCollect100x4 collects per-vCPU figures and taps of 100 VMs of 4 vCPUs in one
// pass, and in the same iteration reads the same files through descriptors kept open with
// one pread each (the floor). It reports both and their ratio (target: within 1.25x).
func BenchmarkCollect100x4(b *testing.B) {
	dir := b.TempDir()
	pids := buildTree(b, dir, 100, 4)
	files := linuxfs.New(4096)
	defer files.CloseAll()
	c := NewCollector(files)
	c.ProcRoot = dir
	vms := make([]*VM, len(pids))
	for i, pid := range pids {
		vm, err := c.Discover(pid, 4)
		if err != nil || len(vm.VCPUs) != 4 || len(vm.Taps) != 1 {
			b.Fatalf("discovery of %d: %v, %d vCPUs, %d taps", pid, err, len(vm.VCPUs), len(vm.Taps))
		}
		vms[i] = vm
	}
	stats := make([]VMStats, len(vms))
	scrape := func() {
		c.BeginScrape()
		for i, vm := range vms {
			c.Collect(vm, &stats[i])
		}
		files.EndPass()
		files.BeginPass()
	}
	scrape()
	for i := range stats {
		if len(stats[i].Errs) > 0 || len(stats[i].VCPUs) != 4 || len(stats[i].Taps) != 1 || stats[i].IOErr != nil {
			b.Fatalf("VM %d: %v", i, stats[i].Errs)
		}
	}

	// The floor: the same files, open, one pread each, no parsing.
	var fds []int
	for _, vm := range vms {
		for _, p := range []string{vm.statPath, vm.ioPath} {
			fds = append(fds, mustOpen(b, p))
		}
		for _, v := range vm.VCPUs {
			fds = append(fds, mustOpen(b, v.statPath), mustOpen(b, v.schedstatPath))
		}
	}
	fds = append(fds, mustOpen(b, vms[0].netDevPath)) // one net/dev per namespace
	buf := make([]byte, 16<<10)
	floor := func() {
		for _, fd := range fds {
			if _, err := syscall.Pread(fd, buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()

	var tFloor, tCollect time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		floor()
		t1 := time.Now()
		scrape()
		tCollect += time.Since(t1)
		tFloor += t1.Sub(t0)
	}
	b.ReportMetric(float64(tFloor.Nanoseconds())/float64(b.N), "floor-ns/scrape")
	b.ReportMetric(float64(tCollect.Nanoseconds())/float64(b.N), "collect-ns/scrape")
	b.ReportMetric(float64(tCollect)/float64(tFloor), "collect/floor")
	b.ReportMetric(float64(len(fds)), "files/scrape")
}

func mustOpen(b *testing.B, p string) int {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	return fd
}
