package wasmruntimereceiver

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Fixture roots are host filesystems in miniature (proc/ and sys/fs/cgroup/) that the receiver
// reads through root_path. The committed ones under testdata/roots are written by
// `go test -run TestFixtureRoots -update` from the scenarios below; each gets an ORIGIN file
// naming where its layout and file formats come from. Benchmarks generate larger roots the same
// way in a temporary directory.

var update = flag.Bool("update", false, "rewrite testdata/roots from the scenarios")

type fixtureProc struct {
	pid, ppid   int
	comm        string
	exe         string
	args        []string
	cgroup      string // content of /proc/<pid>/cgroup
	utime       uint64
	stime       uint64
	threads     int
	rssPages    int64
	startTicks  uint64
	fds         []string // link targets of /proc/<pid>/fd/N
	rawStat     string   // overrides the generated stat line (malformed cases)
	noStat      bool     // listed in /proc but gone (vanished mid-scrape)
	netTCP      string
	noFileLimit string
	netns       string // ns/net link target; the host's when empty
	netDev      string
}

type fixtureRoot struct {
	name    string
	origin  string
	mode    string // v1, v2, hybrid
	procs   []fixtureProc
	cgroups map[string]string // path under sys/fs/cgroup -> content
}

const bootTime = 1795811167

func (p fixtureProc) statLine() string {
	if p.rawStat != "" {
		return p.rawStat
	}
	threads := p.threads
	if threads == 0 {
		threads = 1
	}
	// Fields as proc(5) numbers them: pid comm state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue
	// starttime vsize rss ...
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 1500 0 3 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		p.pid, p.comm, p.ppid, p.pid, p.pid, p.utime, p.stime, threads, p.startTicks, 100<<20, p.rssPages)
}

const limitsFile = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            %s                 1048576              files     
Max locked memory         8388608              8388608              bytes     
`

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// write lays the root out under dir.
func (f fixtureRoot) write(tb testing.TB, dir string) {
	tb.Helper()
	writeFile(tb, filepath.Join(dir, "proc", "stat"), "cpu  1 2 3 4\nbtime "+fmt.Sprint(bootTime)+"\n")
	// pid 1 and a kernel thread, as on any host.
	procs := append([]fixtureProc{
		{pid: 1, ppid: 0, comm: "systemd", exe: "/usr/lib/systemd/systemd", args: []string{"/sbin/init"}, cgroup: defaultCgroup(f.mode, "/init.scope"), startTicks: 1},
		{pid: 2, ppid: 0, comm: "kthreadd", cgroup: defaultCgroup(f.mode, "/"), startTicks: 1},
	}, f.procs...)
	for _, p := range procs {
		pd := filepath.Join(dir, "proc", fmt.Sprint(p.pid))
		if p.noStat {
			// git keeps no empty directory; the listing only needs the pid to be there
			writeFile(tb, filepath.Join(pd, ".keep"), "")
			continue
		}
		writeFile(tb, filepath.Join(pd, "stat"), p.statLine())
		writeFile(tb, filepath.Join(pd, "cmdline"), strings.Join(p.args, "\x00")+nullIf(len(p.args) > 0))
		writeFile(tb, filepath.Join(pd, "cgroup"), p.cgroup)
		nofile := p.noFileLimit
		if nofile == "" {
			nofile = "1024   "
		}
		writeFile(tb, filepath.Join(pd, "limits"), fmt.Sprintf(limitsFile, nofile))
		writeFile(tb, filepath.Join(pd, "status"), fmt.Sprintf("Name:\t%s\nVmRSS:\t%d kB\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n", p.comm, p.rssPages*4))
		tcp := p.netTCP
		if tcp == "" {
			tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		}
		writeFile(tb, filepath.Join(pd, "net", "tcp"), tcp)
		writeFile(tb, filepath.Join(pd, "net", "tcp6"), "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
		if err := os.MkdirAll(filepath.Join(pd, "fd"), 0o755); err != nil {
			tb.Fatal(err)
		}
		fds := p.fds
		if fds == nil {
			fds = []string{"/dev/null", "pipe:[1001]", "pipe:[1001]"}
		}
		for i, target := range fds {
			if err := os.Symlink(target, filepath.Join(pd, "fd", fmt.Sprint(i))); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
		netns := p.netns
		if netns == "" {
			netns = "net:[4026531840]"
		}
		if err := os.MkdirAll(filepath.Join(pd, "ns"), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.Symlink(netns, filepath.Join(pd, "ns", "net")); err != nil && !os.IsExist(err) {
			tb.Fatal(err)
		}
		if p.netDev != "" {
			writeFile(tb, filepath.Join(pd, "net", "dev"), p.netDev)
		}
		if p.exe != "" {
			if err := os.Symlink(p.exe, filepath.Join(pd, "exe")); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
	}
	cg := filepath.Join(dir, "sys", "fs", "cgroup")
	switch f.mode {
	case "v2":
		writeFile(tb, filepath.Join(cg, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n")
	case "v1", "hybrid":
		for _, c := range []string{"cpu,cpuacct", "memory", "pids", "blkio"} {
			writeFile(tb, filepath.Join(cg, c, "cgroup.procs"), "1\n")
		}
		for _, c := range []string{"cpu", "cpuacct"} {
			if err := os.Symlink("cpu,cpuacct", filepath.Join(cg, c)); err != nil && !os.IsExist(err) {
				tb.Fatal(err)
			}
		}
		if f.mode == "hybrid" {
			writeFile(tb, filepath.Join(cg, "unified", "cgroup.controllers"), "")
		}
	}
	for p, content := range f.cgroups {
		writeFile(tb, filepath.Join(cg, p), content)
	}
	// cgroup.procs of every non-root cgroup a process is in, as the kernel lists them.
	members := map[string][]string{}
	for _, p := range procs {
		for _, line := range strings.Split(strings.TrimSpace(p.cgroup), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || parts[2] == "/" || strings.HasPrefix(parts[1], "name=") {
				continue
			}
			mount := parts[1]
			if mount == "" && f.mode == "hybrid" {
				mount = "unified"
			}
			d := filepath.Join(mount, parts[2])
			members[d] = append(members[d], fmt.Sprint(p.pid))
		}
	}
	for d, pids := range members {
		writeFile(tb, filepath.Join(cg, d, "cgroup.procs"), strings.Join(pids, "\n")+"\n")
	}
	if f.origin != "" {
		writeFile(tb, filepath.Join(dir, "ORIGIN"), f.origin)
	}
}

func nullIf(b bool) string {
	if b {
		return "\x00"
	}
	return ""
}

// defaultCgroup is the /proc/<pid>/cgroup of a process at path on a host of the given mode.
func defaultCgroup(mode, path string) string {
	switch mode {
	case "v2":
		return "0::" + path + "\n"
	case "hybrid":
		return "5:pids:" + path + "\n4:memory:" + path + "\n3:cpu,cpuacct:" + path + "\n2:blkio:" + path + "\n1:name=systemd:" + path + "\n0::" + path + "\n"
	}
	return "5:pids:" + path + "\n4:memory:" + path + "\n3:cpu,cpuacct:" + path + "\n2:blkio:" + path + "\n1:name=systemd:" + path + "\n"
}

// v2Files are the control files of a v2 cgroup with the limits the Wasm isolation study
// recommends, under pressure (formats of Documentation/admin-guide/cgroup-v2.rst).
func v2Files(dir string, cpuMax, memMax, pidsMax string) map[string]string {
	return map[string]string{
		dir + "/cpu.stat":        "usage_usec 8123456\nuser_usec 7023456\nsystem_usec 1100000\nnr_periods 2001\nnr_throttled 1843\nthrottled_usec 91234567\nnr_bursts 0\nburst_usec 0\n",
		dir + "/cpu.max":         cpuMax + "\n",
		dir + "/memory.current":  "121634816\n",
		dir + "/memory.max":      memMax + "\n",
		dir + "/memory.peak":     "134103040\n",
		dir + "/memory.stat":     "anon 113246208\nfile 6291456\nkernel 1708032\ninactive_anon 113238016\nactive_anon 8192\ninactive_file 4194304\nactive_file 2097152\npgfault 60321\npgmajfault 3\n",
		dir + "/memory.events":   "low 0\nhigh 0\nmax 417\noom 3\noom_kill 2\noom_group_kill 0\n",
		dir + "/pids.current":    "12\n",
		dir + "/pids.max":        pidsMax + "\n",
		dir + "/io.stat":         "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n",
		dir + "/cpu.pressure":    "some avg10=61.30 avg60=58.02 avg300=22.71 total=88123456\nfull avg10=60.10 avg60=57.00 avg300=22.00 total=87000000\n",
		dir + "/memory.pressure": "some avg10=0.00 avg60=0.12 avg300=0.03 total=52311\nfull avg10=0.00 avg60=0.10 avg300=0.02 total=40120\n",
		dir + "/io.pressure":     "some avg10=0.00 avg60=0.00 avg300=0.00 total=1200\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=800\n",
	}
}

// v1Files are the control files of one cgroup on co-mounted v1 hierarchies.
func v1Files(path string, quota string, memLimit string, pidsMax string) map[string]string {
	return map[string]string{
		"cpu,cpuacct" + path + "/cpuacct.stat":                        "user 4200\nsystem 800\n",
		"cpu,cpuacct" + path + "/cpu.stat":                            "nr_periods 500\nnr_throttled 120\nthrottled_time 9000000000\nnr_bursts 0\nburst_time 0\n",
		"cpu,cpuacct" + path + "/cpu.cfs_quota_us":                    quota + "\n",
		"cpu,cpuacct" + path + "/cpu.cfs_period_us":                   "100000\n",
		"memory" + path + "/memory.usage_in_bytes":                    "83058688\n",
		"memory" + path + "/memory.limit_in_bytes":                    memLimit + "\n",
		"memory" + path + "/memory.max_usage_in_bytes":                "90000000\n",
		"memory" + path + "/memory.stat":                              "cache 76349440\nrss 2326528\ninactive_file 6643712\ntotal_cache 76349440\ntotal_rss 2326528\ntotal_inactive_file 6643712\n",
		"memory" + path + "/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
		"pids" + path + "/pids.current":                               "7\n",
		"pids" + path + "/pids.max":                                   pidsMax + "\n",
		"blkio" + path + "/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 1228800\n8:0 Sync 1232896\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 1232896\nTotal 1232896\n",
		"blkio" + path + "/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 300\n8:0 Total 301\nTotal 301\n",
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

const (
	cid       = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	podUID    = "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11"
	podUIDSys = "7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11"
	sandboxID = "9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
	vmUUID    = "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
	jailerID  = "551e7604-e35c-42b3-b825-416853441234"
)

func scenarios() []fixtureRoot {
	runwasiScope := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDSys + ".slice/cri-containerd-" + cid + ".scope"
	libvirtScope := `/machine.slice/machine-qemu\x2d3\x2dweb\x2d01.scope`
	kataPod := "/kubepods/burstable/pod" + podUID + "/kata_" + sandboxID
	return []fixtureRoot{
		{
			name: "v2-kubepods-systemd-runwasi", mode: "v2",
			origin: "cgroup v2 node with the systemd kubelet driver running a runwasi pod.\n" +
				"Layout: kubelet pkg/kubelet/cm (systemd driver slices, '_' for '-' in the pod uid), containerd\n" +
				"cri-containerd-<id>.scope, runwasi's containerd-shim-wasmtime-v1 forking one process per\n" +
				"container into the container's cgroup. File formats: Linux Documentation/admin-guide/cgroup-v2.rst\n" +
				"and proc(5); limits are the Wasm isolation study's recommendation (cpu.max 50000 100000,\n" +
				"memory.max 128 MiB, pids.max 100).\n",
			procs: []fixtureProc{
				{pid: 800, ppid: 1, comm: "containerd", exe: "/usr/bin/containerd", args: []string{"/usr/bin/containerd"}, cgroup: "0::/system.slice/containerd.service\n", startTicks: 3000, rssPages: 12000},
				{pid: 900, ppid: 1, comm: "containerd-shim", exe: "/usr/local/bin/containerd-shim-wasmtime-v1", args: []string{"/usr/local/bin/containerd-shim-wasmtime-v1", "-namespace", "k8s.io", "-id", cid}, cgroup: "0::/system.slice/containerd.service\n", startTicks: 5000, rssPages: 2000},
				{pid: 901, ppid: 900, comm: "containerd-shim", exe: "/usr/local/bin/containerd-shim-wasmtime-v1", args: []string{"/usr/local/bin/containerd-shim-wasmtime-v1", "-namespace", "k8s.io", "-id", cid}, cgroup: "0::" + runwasiScope + "\n", startTicks: 5010, utime: 700, stime: 110, threads: 6, rssPages: 27000,
					fds:   []string{"/dev/null", "socket:[5001]", "socket:[5002]", "/var/lib/app/data.db"},
					netns: "net:[4026532310]",
					netDev: "Inter-|   Receive                                                |  Transmit\n" +
						" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
						"    lo:    2240      28    0    0    0     0          0         0     2240      28    0    0    0     0       0          0\n" +
						"  eth0: 18874368   14020    0    0    0     0          0         0  1048576    9120    0    0    0     0       0          0\n",
					netTCP: "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
						"   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000059434106 100 0 0 10 0\n" +
						"   1: 0100007F:1F90 0100007F:D494 01 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000059434107 20 0 0 10 -1\n" +
						"   2: 0100007F:1F91 0100007F:D495 01 00000000:00000000 00:00000000 00000000     0        0 6003 1 0000000059434108 20 0 0 10 -1\n"},
			},
			cgroups: v2Files(runwasiScope, "50000 100000", "134217728", "100"),
		},
		{
			name: "v1-kubepods-cgroupfs-spin", mode: "v1",
			origin: "cgroup v1 node (cpu,cpuacct co-mounted) with the cgroupfs kubelet driver running Spin in a\n" +
				"best-effort pod without limits. Layout: kubelet cgroupfs driver /kubepods/<qos>/pod<uid>/<id>.\n" +
				"File contents captured on a v1 guest (cpuacct.stat, memory.stat, memory.oom_control, blkio\n" +
				"throttle files) with the v1 'no limit' values (cfs_quota_us -1, limit_in_bytes\n" +
				"9223372036854771712, pids.max max).\n",
			procs: []fixtureProc{
				{pid: 1200, ppid: 1, comm: "spin", exe: "/usr/local/bin/spin", args: []string{"spin", "up", "--from", "/app/spin.toml"}, cgroup: defaultCgroup("v1", "/kubepods/besteffort/pod"+podUID+"/"+cid), startTicks: 9000, utime: 4000, stime: 800, threads: 9, rssPages: 600},
				{pid: 1201, ppid: 1200, comm: "spin", exe: "/usr/local/bin/spin", args: []string{"spin", "trigger", "http", "--listen", "0.0.0.0:80"}, cgroup: defaultCgroup("v1", "/kubepods/besteffort/pod"+podUID+"/"+cid), startTicks: 9010, utime: 200, stime: 0, threads: 4, rssPages: 400},
			},
			cgroups: v1Files("/kubepods/besteffort/pod"+podUID+"/"+cid, "-1", "9223372036854771712", "max"),
		},
		{
			name: "hybrid-libvirt-qemu", mode: "hybrid",
			origin: "Hybrid host (v1 controllers plus cgroup2 at unified/) running a libvirt domain 'web-01' with\n" +
				"id 3. Layout: libvirt docs/cgroups.rst (machine.slice/machine-qemu\\x2d<id>\\x2d<name>.scope with\n" +
				"libvirt/emulator and libvirt/vcpuN below). Command line as libvirt 9 generates it (-name\n" +
				"guest=...,debug-threads=on, -uuid, -smp N,sockets=...,  -m size=...k).\n",
			procs: []fixtureProc{
				{pid: 3100, ppid: 1, comm: "qemu-system-x86", exe: "/usr/bin/qemu-system-x86_64",
					args: []string{"/usr/bin/qemu-system-x86_64", "-name", "guest=web-01,debug-threads=on", "-S", "-object", "secret,id=masterKey0,format=raw,file=/var/lib/libvirt/qemu/domain-3-web-01/master-key.aes",
						"-machine", "pc-q35-8.2,usb=off,vmport=off,dump-guest-core=off", "-accel", "kvm", "-cpu", "host,migratable=on", "-m", "size=2097152k",
						"-smp", "4,sockets=4,cores=1,threads=1", "-uuid", vmUUID, "-no-user-config", "-nodefaults"},
					cgroup: defaultCgroup("hybrid", libvirtScope+"/libvirt/emulator"), startTicks: 12000, utime: 90000, stime: 15000, threads: 8, rssPages: 500000},
			},
			cgroups: merge(v1Files(libvirtScope, "400000", "2684354560", "max"), map[string]string{
				"unified" + libvirtScope + "/cpu.pressure":    "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500\n",
				"unified" + libvirtScope + "/memory.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
				"unified" + libvirtScope + "/io.pressure":     "some avg10=0.00 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=40\n",
			}),
		},
		{
			name: "v2-firecracker-jailer", mode: "v2",
			origin: "cgroup v2 host running a Firecracker micro-VM under the jailer. Layout: firecracker\n" +
				"docs/jailer.md (cgroup <base>/<parent_cgroup, default the exec file name>/<id>; the jailer\n" +
				"execs firecracker with --id). Formats: cgroup-v2.rst, proc(5).\n",
			procs: []fixtureProc{
				{pid: 4100, ppid: 1, comm: "firecracker", exe: "/srv/jailer/firecracker/" + jailerID + "/root/firecracker",
					args:   []string{"/firecracker", "--id", jailerID, "--start-time-us", "1795811200000000", "--start-time-cpu-us", "120", "--parent-cpu-time-us", "900", "--api-sock", "/run/firecracker.socket"},
					cgroup: "0::/firecracker/" + jailerID + "\n", startTicks: 20000, utime: 100, stime: 50, threads: 4, rssPages: 40000},
			},
			cgroups: v2Files("/firecracker/"+jailerID, "200000 100000", "max", "max"),
		},
		{
			name: "v2-kata-qemu", mode: "v2",
			origin: "cgroup v2 node (cgroupfs driver) running a Kata Containers pod with SandboxCgroupOnly: the\n" +
				"containerd-shim-kata-v2 and its QEMU share the sandbox cgroup kata_<sandbox id> under the pod\n" +
				"cgroup (kata-containers docs/design/host-cgroups.md); QEMU is named sandbox-<id> as Kata\n" +
				"starts it.\n",
			procs: []fixtureProc{
				{pid: 5100, ppid: 1, comm: "containerd-shim", exe: "/usr/bin/containerd-shim-kata-v2", args: []string{"/usr/bin/containerd-shim-kata-v2", "-namespace", "k8s.io", "-id", sandboxID}, cgroup: "0::" + kataPod + "\n", startTicks: 30000, utime: 50, stime: 20, threads: 12, rssPages: 10000},
				{pid: 5101, ppid: 5100, comm: "qemu-system-x86", exe: "/opt/kata/bin/qemu-system-x86_64",
					args:   []string{"/opt/kata/bin/qemu-system-x86_64", "-name", "sandbox-" + sandboxID, "-uuid", "6f03e56e-efa1-4f0f-9b8f-492cf1824c83", "-machine", "q35,accel=kvm", "-m", "2048M,slots=10,maxmem=129853M", "-smp", "1,cores=1,threads=1,sockets=12,maxcpus=12"},
					cgroup: "0::" + kataPod + "\n", startTicks: 30050, utime: 3000, stime: 900, threads: 7, rssPages: 150000},
			},
			cgroups: v2Files(kataPod, "max 100000", "2684354560", "max"),
		},
		{
			name: "v2-edge-catalog", mode: "v2",
			origin: "cgroup v2 edge box running one of each remaining catalog runtime from a shell or a\n" +
				"systemd service, with command lines as each project documents them: wasmedge (AoT module),\n" +
				"wasmer, iwasm (WAMR), cloud-hypervisor --cpus boot= --memory size=, crosvm run --cpus --mem,\n" +
				"and gVisor, whose sandbox process re-executes runsc with argv[0] runsc-sandbox.\n",
			procs: []fixtureProc{
				{pid: 7000, ppid: 1, comm: "bash", exe: "/usr/bin/bash", args: []string{"-bash"}, cgroup: "0::/user.slice/user-1000.slice/session-1.scope\n", startTicks: 100},
				{pid: 7001, ppid: 7000, comm: "wasmedge", exe: "/usr/local/bin/wasmedge", args: []string{"wasmedge", "--dir", ".:.", "app_aot.cwasm"}, cgroup: "0::/user.slice/user-1000.slice/session-1.scope\n", startTicks: 200, utime: 30, rssPages: 3000},
				{pid: 7002, ppid: 7000, comm: "wasmer", exe: "/usr/local/bin/wasmer", args: []string{"wasmer", "run", "python/python", "--", "-c", "print(1)"}, cgroup: "0::/user.slice/user-1000.slice/session-1.scope\n", startTicks: 210, rssPages: 2000},
				{pid: 7003, ppid: 1, comm: "iwasm", exe: "/usr/bin/iwasm", args: []string{"/usr/bin/iwasm", "--heap-size=65536", "/opt/sensor/sensor.wasm"}, cgroup: "0::/system.slice/sensor.service\n", startTicks: 300, rssPages: 200},
				{pid: 7004, ppid: 1, comm: "cloud-hyperviso", exe: "/usr/bin/cloud-hypervisor", args: []string{"cloud-hypervisor", "--api-socket", "path=/run/ch/edge-vm/api.sock", "--kernel", "vmlinux", "--cpus", "boot=2", "--memory", "size=512M"}, cgroup: "0::/system.slice/ch-edge-vm.service\n", startTicks: 400, threads: 5, rssPages: 30000},
				{pid: 7005, ppid: 1, comm: "crosvm", exe: "/usr/bin/crosvm", args: []string{"crosvm", "run", "--cpus", "4", "--mem", "1024", "--name", "android", "bzImage"}, cgroup: "0::/system.slice/crosvm.service\n", startTicks: 500, rssPages: 40000},
				{pid: 7006, ppid: 1, comm: "exe", exe: "/usr/local/bin/runsc", args: []string{"runsc-sandbox", "--root=/run/containerd/runsc/k8s.io", "boot", "--bundle=/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc"}, cgroup: "0::/system.slice/containerd.service\n", startTicks: 600, rssPages: 5000},
				{pid: 7007, ppid: 1, comm: "containerd", exe: "/usr/bin/containerd", args: []string{"/usr/bin/containerd"}, cgroup: "0::/system.slice/containerd.service\n", startTicks: 50},
			},
			cgroups: merge(
				v2Files("/system.slice/sensor.service", "10000 100000", "16777216", "16"),
				v2Files("/system.slice/ch-edge-vm.service", "max 100000", "max", "max"),
				v2Files("/system.slice/crosvm.service", "max 100000", "max", "max"),
			),
		},
		{
			name: "v2-broken", mode: "v2",
			origin: "Failure cases written by hand: a process listed in /proc whose files are gone (exited\n" +
				"between the directory listing and the read), a truncated stat line, and a matched\n" +
				"wasmtime whose cgroup has a malformed memory.stat and no pids controller files.\n",
			procs: []fixtureProc{
				{pid: 6000, noStat: true},
				{pid: 6001, rawStat: "6001 (wasmtime) S 1 6001"},
				{pid: 6002, ppid: 1, comm: "wasmtime", exe: "/usr/local/bin/wasmtime", args: []string{"wasmtime", "run", "--dir", "/data", "/apps/hello.wasm"}, cgroup: "0::/system.slice/hello-wasm.service\n", startTicks: 40000, utime: 10, stime: 5, rssPages: 1000},
			},
			cgroups: map[string]string{
				"/system.slice/hello-wasm.service/cpu.stat":       "usage_usec 150000\nuser_usec 100000\nsystem_usec 50000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
				"/system.slice/hello-wasm.service/cpu.max":        "max 100000\n",
				"/system.slice/hello-wasm.service/memory.current": "4096000\n",
				"/system.slice/hello-wasm.service/memory.max":     "max\n",
				"/system.slice/hello-wasm.service/memory.stat":    "anon lots\n",
				"/system.slice/hello-wasm.service/memory.events":  "oom 0\noom_kill 0\n",
				"/system.slice/hello-wasm.service/io.stat":        "",
			},
		},
	}
}

func rootDir(name string) string { return filepath.Join("testdata", "roots", name) }

// TestFixtureRoots checks that the committed roots are what the scenarios describe, or
// rewrites them with -update.
func TestFixtureRoots(t *testing.T) {
	for _, sc := range scenarios() {
		dir := rootDir(sc.name)
		if *update {
			require := os.RemoveAll(dir)
			if require != nil {
				t.Fatal(require)
			}
			sc.write(t, dir)
			continue
		}
		tmp := t.TempDir()
		sc.write(t, tmp)
		want, got := listTree(t, tmp), listTree(t, dir)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s is stale: run go test -run TestFixtureRoots -update", dir)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + fmt.Sprint(len(b)) + " " + fmt.Sprintf("%x", hash(b))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func hash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
