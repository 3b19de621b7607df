package wasmruntimereceiver

import "strings"

// Reconstructed fixture roots: each process, cgroup path and command line follows the upstream
// source its ORIGIN names (repository, file and commit); file formats follow the kernel's
// Documentation/admin-guide/cgroup-v1 and cgroup-v2.rst and proc(5). Values are chosen to obey
// the kernel's invariants (TestFixtureInvariants checks them).

const (
	cid       = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	cid2      = "5d3b9c6f2e1e4d7cab8f9e3a2d1c4b5f6e7d8c9bab0f1e2d3c4b5a6f7e8d9cab"
	podUID    = "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11"
	podUIDSys = "7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11"
	sandboxID = "9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
	vmUUID    = "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
	jailerID  = "551e7604-e35c-42b3-b825-416853441234"
	fcRelease = "firecracker-v1.12.0-x86_64"
)

const (
	podSlice      = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podUIDSys + ".slice"
	runwasiScope  = podSlice + "/cri-containerd-" + cid + ".scope"
	pauseScope    = podSlice + "/cri-containerd-" + sandboxID + ".scope"
	libvirtScope  = `/machine.slice/machine-qemu\x2d3\x2dweb\x2d01.scope`
	kataPodCgfs   = "/kubepods/burstable/pod" + podUID
	kataSandbox   = kataPodCgfs + "/kata_" + sandboxID
	kataOverhead  = "/kata_overhead/" + sandboxID
	proxmoxScope  = "/qemu.slice/104.scope"
	libpodScope   = "/machine.slice/libpod-" + cid2 + ".scope"
	shimWasmtime  = "/usr/local/bin/containerd-shim-wasmtime-v1"
	tcpHeader     = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	emptyPressure = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
)

// v2Idle are the files of a v2 cgroup without limits of its own and little use.
func v2Idle(dir string) map[string]string {
	return map[string]string{
		dir + "/cpu.stat":       "usage_usec 120000\nuser_usec 80000\nsystem_usec 40000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
		dir + "/cpu.max":        "max 100000\n",
		dir + "/memory.current": "8388608\n",
		dir + "/memory.max":     "max\n",
		dir + "/memory.high":    "max\n",
		dir + "/memory.stat":    "anon 4194304\nfile 2097152\ninactive_file 1048576\npgfault 900\npgmajfault 1\n",
		dir + "/memory.events":  "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
		dir + "/pids.current":   "8\n",
		dir + "/pids.max":       "max\n",
		dir + "/io.stat":        "",
	}
}

// limitsOnly are the limit files of a parent cgroup (a pod slice) that bounds its children.
func limitsOnly(dir, cpuMax, memMax, pidsMax string) map[string]string {
	return map[string]string{dir + "/cpu.max": cpuMax + "\n", dir + "/memory.max": memMax + "\n", dir + "/memory.high": "max\n", dir + "/pids.max": pidsMax + "\n",
		dir + "/cpu.stat": cpuStatFor(cpuMax)}
}

// cpuStatFor is a parent's cpu.stat, throttled only when it has a quota.
func cpuStatFor(cpuMax string) string {
	if strings.HasPrefix(cpuMax, "max") {
		return "usage_usec 8200000\nuser_usec 7100000\nsystem_usec 1100000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"
	}
	return "usage_usec 8200000\nuser_usec 7100000\nsystem_usec 1100000\nnr_periods 2001\nnr_throttled 1843\nthrottled_usec 4100000\n"
}

func scenarios() []fixtureRoot {
	return []fixtureRoot{
		runwasiScenario(), spinKubeScenario(), kataSandboxOnlyScenario(), kataOverheadV1Scenario(), crunWasmScenario(), firecrackerScenario(),
		proxmoxScenario(), libvirtSystemdScenario(), libvirtCgroupfsScenario(), spinV1Scenario(), edgeCatalogScenario(),
		stackedDevicesScenario(), longUptimeScenario(), brokenScenario(),
	}
}

func runwasiScenario() fixtureRoot {
	shimArgs := []string{shimWasmtime, "-namespace", "k8s.io", "-id", sandboxID, "-address", "/run/containerd/containerd.sock"}
	containerd := "0::/system.slice/containerd.service\n"
	return fixtureRoot{
		name: "v2-kubepods-systemd-runwasi", mode: "v2",
		origin: "Reconstructed. cgroup v2 node with the systemd kubelet driver, one runwasi pod with one Wasm container\n" +
			"(containerd-shim-wasmtime-v1 v0.6.0 with containerd-shim-wasm 1.0.0 and youki 0.5.3):\n" +
			"- containerd/runwasi crates/containerd-shim-wasm/src/sys/unix/container/instance.rs, commit eb9967aa:\n" +
			"  ContainerBuilder ... .as_init(bundle).as_sibling(true): youki's init is cloned with CLONE_PARENT\n" +
			"  from a per-container zygote (jprendes/zygote 0aa9ab11), so it is the shim's child, not a descendant\n" +
			"  of anything in the container; it runs the module without exec: exe and cmdline are the shim's.\n" +
			"- youki crates/libcontainer/src/process/container_intermediate_process.rs: prctl set_name(\"youki:[2:INIT]\").\n" +
			"- The shim, its global zygote and the container's zygote stay in containerd.service (the synchronous\n" +
			"  shim API of containerd/rust-extensions ae876e3a never moves them; CRI ShimCgroup is runc-only).\n" +
			"- containerd-shim-wasm >= 0.8 runs the pod's pause container as a real /pause process (52683ac9).\n" +
			"- Paths: kubelet systemd driver slices ('_' for '-' in the uid), containerd cri-containerd-<id>.scope.\n" +
			"- Limits on the pod slice only (cpu.max 50000 100000, memory.max 128 MiB, pids.max 100, the Wasm\n" +
			"  isolation study's recommendation); the container scope has none of its own.\n",
		procs: []fixtureProc{
			{pid: 800, ppid: 1, comm: "containerd", exe: "/usr/bin/containerd", args: []string{"/usr/bin/containerd"}, cgroup: containerd, startTicks: 3000, rssPages: 12000},
			{pid: 900, ppid: 1, comm: "containerd-shim", exe: shimWasmtime, args: shimArgs, cgroup: containerd, startTicks: 5000, threads: 9, rssPages: 2000},
			{pid: 902, ppid: 900, comm: "containerd-shim", exe: shimWasmtime, args: shimArgs, cgroup: containerd, startTicks: 5001, rssPages: 500},
			{pid: 903, ppid: 900, comm: "containerd-shim", exe: shimWasmtime, args: shimArgs, cgroup: containerd, startTicks: 5008, rssPages: 500},
			{pid: 904, ppid: 900, comm: "pause", exe: "/pause", args: []string{"/pause"}, cgroup: "0::" + pauseScope + "\n", startTicks: 5004, rssPages: 100},
			{pid: 901, ppid: 900, comm: "youki:[2:INIT]", exe: shimWasmtime, args: shimArgs, cgroup: "0::" + runwasiScope + "\n", startTicks: 5010, utime: 700, stime: 110, threads: 6, rssPages: 27000,
				fds:   []string{"/dev/null", "socket:[5001]", "socket:[5002]", "/var/lib/app/data.db"},
				netns: "net:[4026532310]",
				netDev: "Inter-|   Receive                                                |  Transmit\n" +
					" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
					"    lo:    2240      28    0    0    0     0          0         0     2240      28    0    0    0     0       0          0\n" +
					"  eth0: 18874368   14020    0    0    0     0          0         0  1048576    9120    0    0    0     0       0          0\n",
				netTCP: tcpHeader +
					"   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000059434106 100 0 0 10 0\n" +
					"   1: 0100007F:1F90 0100007F:D494 01 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000059434107 20 0 0 10 -1\n" +
					"   2: 0100007F:1F91 0100007F:D495 01 00000000:00000000 00:00000000 00000000     0        0 6003 1 0000000059434108 20 0 0 10 -1\n"},
		},
		cgroups: merge(
			limitsOnly(podSlice, "50000 100000", "134217728", "100"),
			v2Files(runwasiScope, "max 100000", "max", "max"),
			v2Idle(pauseScope),
			map[string]string{
				runwasiScope + "/cpu.stat":   "usage_usec 8123456\nuser_usec 7023456\nsystem_usec 1100000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
				runwasiScope + "/memory.max": "max\n", runwasiScope + "/memory.high": "max\n",
			}),
	}
}

func spinKubeScenario() fixtureRoot {
	shim := "/usr/local/bin/containerd-shim-spin-v2"
	args := []string{shim, "-namespace", "k8s.io", "-id", sandboxID, "-address", "/run/containerd/containerd.sock"}
	pod := "/kubepods/besteffort/pod" + podUID
	ctr := pod + "/" + cid2
	return fixtureRoot{
		name: "v2-kubepods-cgroupfs-spinkube", mode: "v2",
		origin: "Reconstructed. cgroup v2 node with the cgroupfs kubelet driver running a SpinKube app (containerd-shim-spin-v2\n" +
			"v0.18.0, dcd9a3be, on containerd-shim-wasm 0.7.0 and youki 0.4.1):\n" +
			"- Before the zygote of containerd-shim-wasm 0.9, youki ran inside the shim: its intermediate process is\n" +
			"  the shim's child and clones the container init as its sibling (CLONE_PARENT), so the init is the\n" +
			"  shim's child too; comm youki:[2:INIT], exe and cmdline the shim's; the Spin runtime runs its\n" +
			"  triggers in that process (no exec).\n" +
			"- containerd-shim-wasm <= 0.7 runs no pause process: the pod sandbox is a no-op instance.\n" +
			"- The shim stays in containerd's cgroup. Paths: kubelet cgroupfs driver /kubepods/<qos>/pod<uid>/<id>;\n" +
			"  no limits (best effort).\n",
		procs: []fixtureProc{
			{pid: 950, ppid: 1, comm: "containerd-shim", exe: shim, args: args, cgroup: "0::/system.slice/containerd.service\n", startTicks: 6000, threads: 7, rssPages: 2500},
			{pid: 951, ppid: 950, comm: "youki:[2:INIT]", exe: shim, args: args, cgroup: "0::" + ctr + "\n", startTicks: 6010, utime: 300, stime: 40, threads: 5, rssPages: 9000},
		},
		cgroups: merge(v2Idle(pod), v2Files(ctr, "max 100000", "max", "max"), map[string]string{
			pod + "/memory.current": "125829120\n",
		}),
	}
}

func kataSandboxOnlyScenario() fixtureRoot {
	return fixtureRoot{
		name: "v2-kata-sandbox-cgroup-only", mode: "v2",
		origin: "Reconstructed. cgroup v2 node, cgroupfs kubelet driver, a Kata Containers pod (Go runtime) with\n" +
			"sandbox_cgroup_only=true:\n" +
			"- kata-containers src/runtime/virtcontainers/sandbox.go (commit 7c6ba40c; tag 4.1.0 ddcb1ad8):\n" +
			"  setupResourceController moves the shim (os.Getpid) into the sandbox cgroup before startVM, so the\n" +
			"  VMM and virtiofsd it forks start there; pkg/resourcecontrol/cgroups.go adds the kata_ prefix\n" +
			"  (\"kata_\"+base) for cgroupfs paths.\n" +
			"- containerd internal/cri/server/podsandbox/helpers_linux.go getCgroupsPath: cgroupfs pods are\n" +
			"  <cgroupsParent>/<sandbox id>; Kata's prefix gives kubepods/burstable/pod<uid>/kata_<id>.\n" +
			"- virtcontainers/qemu.go: -name sandbox-<id>; the VM is sized by -m and -smp.\n",
		procs: []fixtureProc{
			{pid: 5100, ppid: 1, comm: "containerd-shim", exe: "/usr/bin/containerd-shim-kata-v2", args: []string{"/usr/bin/containerd-shim-kata-v2", "-namespace", "k8s.io", "-id", sandboxID, "-address", "/run/containerd/containerd.sock"}, cgroup: "0::" + kataSandbox + "\n", startTicks: 30000, utime: 50, stime: 20, threads: 12, rssPages: 10000},
			{pid: 5101, ppid: 5100, comm: "qemu-system-x86", exe: "/opt/kata/bin/qemu-system-x86_64",
				args:   []string{"/opt/kata/bin/qemu-system-x86_64", "-name", "sandbox-" + sandboxID, "-uuid", "6f03e56e-efa1-4f0f-9b8f-492cf1824c83", "-machine", "q35,accel=kvm", "-m", "2048M,slots=10,maxmem=129853M", "-smp", "1,cores=1,threads=1,sockets=12,maxcpus=12"},
				cgroup: "0::" + kataSandbox + "\n", startTicks: 30050, utime: 3000, stime: 900, threads: 7, rssPages: 150000},
			{pid: 5102, ppid: 5100, comm: "virtiofsd", exe: "/opt/kata/libexec/virtiofsd", args: []string{"/opt/kata/libexec/virtiofsd", "--socket-path=/run/vc/vm/" + sandboxID + "/vhost-fs.sock", "--shared-dir=/run/kata-containers/shared/sandboxes/" + sandboxID + "/shared"}, cgroup: "0::" + kataSandbox + "\n", startTicks: 30040, threads: 3, rssPages: 2000},
		},
		cgroups: merge(limitsOnly(kataPodCgfs, "max 100000", "2684354560", "max"), v2Files(kataSandbox, "max 100000", "2684354560", "max"), map[string]string{
			kataSandbox + "/memory.current": "679477248\n",
			kataSandbox + "/memory.stat":    "anon 621805568\nfile 6291456\ninactive_file 4194304\npgfault 160321\npgmajfault 30\n",
			kataSandbox + "/memory.peak":    "700000256\n",
			kataSandbox + "/pids.current":   "22\n",
			kataSandbox + "/cpu.stat":       "usage_usec 39700000\nuser_usec 30500000\nsystem_usec 9200000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
		}),
	}
}

func kataOverheadV1Scenario() fixtureRoot {
	sandboxLines := defaultCgroup("v1", kataSandbox)
	overheadLines := defaultCgroup("v1", kataOverhead)
	return fixtureRoot{
		name: "v1-kata-overhead", mode: "v1",
		origin: "Reconstructed. cgroup v1 node (cpu,cpuacct co-mounted), cgroupfs kubelet driver, a Kata pod (Go runtime)\n" +
			"with sandbox_cgroup_only=false, the default of src/runtime/Makefile DEFSANDBOXCGROUPONLY (commit 7c6ba40c):\n" +
			"- virtcontainers/sandbox.go: the shim moves itself into /kata_overhead/<id> (resCtrlKataOverheadID,\n" +
			"  always a cgroupfs path) before it starts the VMM, so QEMU and virtiofsd start there;\n" +
			"  constrainHypervisor then AddThread()s each vCPU thread to the sandbox cgroup: on v1 that writes the\n" +
			"  tid to tasks (pkg/resourcecontrol/cgroups.go AddThread), so only the vCPU threads move and QEMU's\n" +
			"  leader stays in the overhead cgroup.\n" +
			"- /proc/<pid>/cgroup shows the leader's cgroups; /proc/<pid>/task/<tid>/cgroup each thread's.\n" +
			"- Kata's QEMU has no debug-threads unless debug is on: vCPU threads keep the process's comm.\n" +
			"- The pod cgroup holds the limits (memory 2.5 GiB, 2 CPUs), as kubelet sets them.\n",
		procs: []fixtureProc{
			{pid: 5200, ppid: 1, comm: "containerd-shim", exe: "/usr/bin/containerd-shim-kata-v2", args: []string{"/usr/bin/containerd-shim-kata-v2", "-namespace", "k8s.io", "-id", sandboxID}, cgroup: overheadLines, startTicks: 31000, utime: 60, stime: 30, threads: 12, rssPages: 10000},
			{pid: 5201, ppid: 5200, comm: "qemu-system-x86", exe: "/opt/kata/bin/qemu-system-x86_64",
				args:   []string{"/opt/kata/bin/qemu-system-x86_64", "-name", "sandbox-" + sandboxID, "-m", "2048M,slots=10,maxmem=129853M", "-smp", "2,cores=1,threads=1,sockets=12,maxcpus=12"},
				cgroup: overheadLines, startTicks: 31050, utime: 6000, stime: 1500, threads: 8, rssPages: 200000,
				tasks: []fixtureTask{{tid: 5210, comm: "qemu-system-x86", cgroup: sandboxLines}, {tid: 5211, comm: "qemu-system-x86", cgroup: sandboxLines}}},
			{pid: 5202, ppid: 5200, comm: "virtiofsd", exe: "/opt/kata/libexec/virtiofsd", args: []string{"/opt/kata/libexec/virtiofsd", "--socket-path=/run/vc/vm/" + sandboxID + "/vhost-fs.sock"}, cgroup: overheadLines, startTicks: 31040, threads: 3, rssPages: 2000},
		},
		cgroups: merge(
			v1Files(kataPodCgfs, "200000", "2684354560", "max"),
			v1Files(kataSandbox, "-1", "9223372036854771712", "max"),
			v1Files(kataOverhead, "-1", "9223372036854771712", "max"),
			map[string]string{
				"cpu,cpuacct" + kataSandbox + "/cpuacct.usage":         "61000000000\n",
				"cpu,cpuacct" + kataSandbox + "/cpuacct.usage_user":    "58000000000\n",
				"cpu,cpuacct" + kataSandbox + "/cpuacct.usage_sys":     "3000000000\n",
				"cpu,cpuacct" + kataOverhead + "/cpuacct.usage":        "14500000000\n",
				"cpu,cpuacct" + kataOverhead + "/cpuacct.usage_user":   "9000000000\n",
				"cpu,cpuacct" + kataOverhead + "/cpuacct.usage_sys":    "5500000000\n",
				"memory" + kataSandbox + "/memory.usage_in_bytes":      "805306368\n",
				"memory" + kataSandbox + "/memory.stat":                "cache 4194304\nrss 796917760\ntotal_cache 4194304\ntotal_rss 796917760\ntotal_inactive_file 2097152\ntotal_pgfault 300000\ntotal_pgmajfault 12\nhierarchical_memory_limit 2684354560\nhierarchical_memsw_limit 9223372036854771712\n",
				"memory" + kataOverhead + "/memory.usage_in_bytes":     "52428800\n",
				"memory" + kataOverhead + "/memory.stat":               "cache 2097152\nrss 48234496\ntotal_cache 2097152\ntotal_rss 48234496\ntotal_inactive_file 1048576\ntotal_pgfault 20000\ntotal_pgmajfault 3\nhierarchical_memory_limit 9223372036854771712\nhierarchical_memsw_limit 9223372036854771712\n",
				"memory" + kataPodCgfs + "/memory.usage_in_bytes":      "805306368\n",
				"memory" + kataPodCgfs + "/memory.max_usage_in_bytes":  "905969664\n",
				"memory" + kataSandbox + "/memory.max_usage_in_bytes":  "838860800\n",
				"memory" + kataOverhead + "/memory.max_usage_in_bytes": "62914560\n",
				"pids" + kataSandbox + "/pids.current":                 "2\n",
				"pids" + kataOverhead + "/pids.current":                "21\n",
			}),
	}
}

func crunWasmScenario() fixtureRoot {
	return fixtureRoot{
		name: "v2-podman-crun-wasm", mode: "v2",
		origin: "Reconstructed. cgroup v2 host running a Podman container with crun's WasmEdge handler\n" +
			"(run.oci.handler=wasm, module.wasm.image/variant=compat-smart):\n" +
			"- containers/crun src/libcrun/container.c (commit ba38286f): prctl(PR_SET_NAME, handler name),\n" +
			"  rewrite_argv to \"[libcrun:wasmedge] <args>\", then the handler's run_func in crun's own process\n" +
			"  (no execv); src/libcrun/handlers/wasmedge.c dlopens libwasmedge.so.0 in the parent.\n" +
			"- Podman with the systemd cgroup manager: machine.slice/libpod-<id>.scope with the workload in its\n" +
			"  container/ sub-cgroup, conmon in libpod-conmon-<id>.scope.\n",
		procs: []fixtureProc{
			{pid: 8100, ppid: 1, comm: "conmon", exe: "/usr/bin/conmon", args: []string{"/usr/bin/conmon", "--api-version", "1", "-c", cid2}, cgroup: "0::/machine.slice/libpod-conmon-" + cid2 + ".scope\n", startTicks: 40000, rssPages: 300},
			{pid: 8101, ppid: 8100, comm: "wasmedge", exe: "/usr/bin/crun", args: []string{"[libcrun:wasmedge]", "/hello.wasm"}, cgroup: "0::" + libpodScope + "/container\n", startTicks: 40010, utime: 20, stime: 5, threads: 2, rssPages: 1500},
		},
		cgroups: merge(v2Idle(libpodScope+"/container"), v2Idle(libpodScope), map[string]string{
			libpodScope + "/memory.max": "268435456\n", libpodScope + "/cpu.max": "100000 100000\n", libpodScope + "/pids.max": "2048\n",
			libpodScope + "/memory.current": "8388608\n",
		}),
	}
}

func firecrackerScenario() fixtureRoot {
	fcCgroup := "/" + fcRelease + "/" + jailerID
	return fixtureRoot{
		name: "v2-firecracker-jailer", mode: "v2",
		origin: "Reconstructed. cgroup v2 host running a Firecracker micro-VM under the jailer with the release binary:\n" +
			"- firecracker-microvm/firecracker src/jailer/src/env.rs (commit 81b38b9d): exec_file_name is the\n" +
			"  canonicalized binary's file name; chroot <base>/<exec_file_name>/<id>/root; the parent cgroup\n" +
			"  defaults to exec_file_name, the cgroup is <base>/<parent>/<id> (cgroup.rs); the jailer execs\n" +
			"  \"/\"+exec_file_name with --id --start-time-us --start-time-cpu-us --parent-cpu-time-us.\n" +
			"- tools/release.sh: binaries named firecracker-v1.x.y-<arch>; comm keeps 15 bytes of it.\n" +
			"- src/vmm/src/vstate/vcpu.rs: vCPU threads \"fc_vcpu N\"; api_server_adapter.rs: \"fc_api\".\n",
		procs: []fixtureProc{
			{pid: 4100, ppid: 1, comm: "firecracker-v1.", exe: "/srv/jailer/" + fcRelease + "/" + jailerID + "/root/" + fcRelease,
				args:   []string{"/" + fcRelease, "--id", jailerID, "--start-time-us", "1795811200000000", "--start-time-cpu-us", "120", "--parent-cpu-time-us", "900", "--api-sock", "/run/firecracker.socket"},
				cgroup: "0::" + fcCgroup + "\n", startTicks: 20000, utime: 100, stime: 50, threads: 4, rssPages: 25000,
				tasks: []fixtureTask{{tid: 4101, comm: "fc_api"}, {tid: 4102, comm: "fc_vcpu 0"}, {tid: 4103, comm: "fc_vcpu 1"}}},
		},
		cgroups: v2Files(fcCgroup, "200000 100000", "max", "max"),
	}
}

func proxmoxScenario() fixtureRoot {
	return fixtureRoot{
		name: "v2-proxmox-qemu", mode: "v2",
		origin: "Reconstructed. Proxmox VE 9 host (cgroup v2) running VM 104:\n" +
			"- proxmox/qemu-server src/PVE/QemuServer.pm (commit e6352be6): the starter enters\n" +
			"  qemu.slice/<vmid>.scope (PVE::Systemd::enter_systemd_scope) and starts virtiofsd, swtpm and\n" +
			"  /usr/bin/kvm -id <vmid> -name <name>,debug-threads=on ... -smp <n>,sockets=,cores=,maxcpus=\n" +
			"  -m <MiB> -pidfile /var/run/qemu-server/<vmid>.pid -daemonize, all in the scope.\n",
		procs: []fixtureProc{
			{pid: 9100, ppid: 1, comm: "kvm", exe: "/usr/bin/qemu-system-x86_64",
				args:   []string{"/usr/bin/kvm", "-id", "104", "-name", "web,debug-threads=on", "-no-shutdown", "-pidfile", "/var/run/qemu-server/104.pid", "-daemonize", "-smp", "4,sockets=1,cores=4,maxcpus=4", "-m", "8192"},
				cgroup: "0::" + proxmoxScope + "\n", startTicks: 50000, utime: 9000, stime: 3000, threads: 9, rssPages: 500000},
			{pid: 9101, ppid: 1, comm: "swtpm", exe: "/usr/bin/swtpm", args: []string{"swtpm", "socket", "--tpmstate", "backend-uri=file:///dev/rbd0"}, cgroup: "0::" + proxmoxScope + "\n", startTicks: 49990, rssPages: 500},
		},
		cgroups: merge(v2Files(proxmoxScope, "max 100000", "9663676416", "max"), map[string]string{
			proxmoxScope + "/memory.current": "2147483648\n",
			proxmoxScope + "/memory.stat":    "anon 2046820352\nfile 83886080\ninactive_file 41943040\npgfault 700000\npgmajfault 50\n",
			proxmoxScope + "/memory.peak":    "2200000512\n",
			proxmoxScope + "/cpu.stat":       "usage_usec 120000000\nuser_usec 90000000\nsystem_usec 30000000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
			proxmoxScope + "/pids.current":   "14\n",
		}),
	}
}

func libvirtSystemdScenario() fixtureRoot {
	emulator := libvirtScope + "/libvirt/emulator"
	vcpu0, vcpu1 := libvirtScope+"/libvirt/vcpu0", libvirtScope+"/libvirt/vcpu1"
	lines := func(p string) string { return defaultCgroup("hybrid", p) }
	return fixtureRoot{
		name: "hybrid-libvirt-qemu", mode: "hybrid",
		origin: "Reconstructed. Hybrid host (v1 controllers plus cgroup2 at unified/) running libvirt >= 7.1 domain\n" +
			"'web-01' with id 3:\n" +
			"- libvirt docs/cgroups.rst (42b5e496) and src/util/vircgroup.c: systemd layout\n" +
			"  machine.slice/machine-qemu\\x2d<id>\\x2d<name>.scope/libvirt/{emulator,vcpuN,iothreadN}; the\n" +
			"  'libvirt' directory exists since 7.1.0; qemuProcessSetupPid moves the emulator thread (the\n" +
			"  process's leader) into libvirt/emulator and each vCPU thread into libvirt/vcpuN.\n" +
			"- src/qemu/qemu_command.c (4cf22396): -name guest=<name, commas doubled>,debug-threads=on, -uuid,\n" +
			"  -smp <n>,sockets=..,cores=..,threads=.., -m size=<KiB>k; with debug-threads QEMU names vCPU\n" +
			"  threads \"CPU <n>/KVM\".\n" +
			"- The OOM kill happened in libvirt/emulator: v1's memory.oom_control counts per cgroup, not for\n" +
			"  the subtree, so the scope's own file says 0.\n",
		procs: []fixtureProc{
			{pid: 3100, ppid: 1, comm: "qemu-system-x86", exe: "/usr/bin/qemu-system-x86_64",
				args: []string{"/usr/bin/qemu-system-x86_64", "-name", "guest=web-01,debug-threads=on", "-S", "-object", "secret,id=masterKey0,format=raw,file=/var/lib/libvirt/qemu/domain-3-web-01/master-key.aes",
					"-machine", "pc-q35-8.2,usb=off,vmport=off,dump-guest-core=off", "-accel", "kvm", "-cpu", "host,migratable=on", "-m", "size=2097152k",
					"-smp", "2,sockets=2,cores=1,threads=1", "-uuid", vmUUID, "-no-user-config", "-nodefaults"},
				cgroup: lines(emulator), startTicks: 12000, utime: 90000, stime: 15000, threads: 8, rssPages: 500000,
				tasks: []fixtureTask{{tid: 3110, comm: "CPU 0/KVM", cgroup: lines(vcpu0)}, {tid: 3111, comm: "CPU 1/KVM", cgroup: lines(vcpu1)}}},
		},
		cgroups: merge(v1Files(libvirtScope, "400000", "2684354560", "max"), map[string]string{
			"memory" + libvirtScope + "/memory.usage_in_bytes":               "2147483648\n",
			"memory" + libvirtScope + "/memory.max_usage_in_bytes":           "2415919104\n",
			"memory" + libvirtScope + "/memory.stat":                         "cache 83886080\nrss 2046820352\ntotal_cache 83886080\ntotal_rss 2046820352\ntotal_inactive_file 41943040\ntotal_pgfault 700000\ntotal_pgmajfault 50\nhierarchical_memory_limit 2684354560\n",
			"memory" + libvirtScope + "/memory.oom_control":                  "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
			"memory" + libvirtScope + "/libvirt/emulator/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
			"memory" + libvirtScope + "/libvirt/vcpu0/memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
			"cpu,cpuacct" + libvirtScope + "/cpuacct.usage":                  "1050000000000\n",
			"cpu,cpuacct" + libvirtScope + "/cpuacct.usage_user":             "900000000000\n",
			"cpu,cpuacct" + libvirtScope + "/cpuacct.usage_sys":              "150000000000\n",
			"cpu,cpuacct" + libvirtScope + "/cpu.stat":                       "nr_periods 5000\nnr_throttled 120\nthrottled_time 9000000000\nnr_bursts 0\nburst_time 0\n",
			"pids" + libvirtScope + "/pids.current":                          "9\n",
			"unified" + libvirtScope + "/cpu.pressure":                       "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500\n",
			"unified" + libvirtScope + "/memory.pressure":                    emptyPressure,
			"unified" + libvirtScope + "/io.pressure":                        "some avg10=0.00 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=40\n",
		}),
	}
}

func libvirtCgroupfsScenario() fixtureRoot {
	machine := "/machine/qemu-2-db.libvirt-qemu"
	return fixtureRoot{
		name: "v1-libvirt-cgroupfs", mode: "v1",
		origin: "Reconstructed. cgroup v1 host without systemd running libvirt domain 'db' with id 2:\n" +
			"- libvirt src/util/vircgroup.c virCgroupNewMachineManual / virCgroupNewDomainPartition:\n" +
			"  /machine/<machine name>.libvirt-qemu with emulator and vcpuN directly below (no 'libvirt'\n" +
			"  directory), machine name qemu-<id>-<name> (src/hypervisor/domain_driver.c\n" +
			"  virDomainDriverGenerateMachineName, 0268270b).\n",
		procs: []fixtureProc{
			{pid: 3300, ppid: 1, comm: "qemu-system-x86", exe: "/usr/bin/qemu-system-x86_64",
				args:   []string{"/usr/bin/qemu-system-x86_64", "-name", "guest=db,debug-threads=on", "-m", "size=1048576k", "-smp", "1,sockets=1,cores=1,threads=1", "-uuid", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"},
				cgroup: defaultCgroup("v1", machine+"/emulator"), startTicks: 13000, utime: 400, stime: 100, threads: 5, rssPages: 100000,
				tasks: []fixtureTask{{tid: 3310, comm: "CPU 0/KVM", cgroup: defaultCgroup("v1", machine+"/vcpu0")}}},
		},
		cgroups: merge(v1Files(machine, "-1", "9223372036854771712", "max"), map[string]string{
			"memory" + machine + "/memory.usage_in_bytes":     "536870912\n",
			"memory" + machine + "/memory.max_usage_in_bytes": "603979776\n",
			"memory" + machine + "/memory.stat":               "cache 4194304\nrss 520093696\ntotal_cache 4194304\ntotal_rss 520093696\ntotal_inactive_file 2097152\ntotal_pgfault 50000\ntotal_pgmajfault 5\nhierarchical_memory_limit 9223372036854771712\n",
			"memory" + machine + "/memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
			"cpu,cpuacct" + machine + "/cpuacct.usage":        "5000000000\n",
			"cpu,cpuacct" + machine + "/cpu.stat":             "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
		}),
	}
}

func spinV1Scenario() fixtureRoot {
	pod := "/kubepods/burstable/pod" + podUID
	ctr := pod + "/" + cid
	return fixtureRoot{
		name: "v1-kubepods-cgroupfs-spin", mode: "v1",
		origin: "Reconstructed. cgroup v1 node (cpu,cpuacct co-mounted) with the cgroupfs kubelet driver running the Spin\n" +
			"CLI in a burstable pod whose limits are on the pod cgroup only:\n" +
			"- spinframework/spin src/commands/up.rs (commit 94a8fc8a): spin up re-executes current_exe as\n" +
			"  \"spin trigger http\", the long-running instance; both sit in the container's cgroup.\n" +
			"- kubelet cgroupfs driver: /kubepods/<qos>/pod<uid>/<container id>.\n" +
			"- cgroup v1 (Documentation/admin-guide/cgroup-v1/memory.rst): the container's\n" +
			"  memory.limit_in_bytes reads unlimited (9223372036854771712) while memory.stat's\n" +
			"  hierarchical_memory_limit holds the pod's 256 MiB; the pod's cfs quota (1 CPU) bounds it too.\n",
		procs: []fixtureProc{
			{pid: 1200, ppid: 1, comm: "spin", exe: "/usr/local/bin/spin", args: []string{"spin", "up", "--from", "/app/spin.toml"}, cgroup: defaultCgroup("v1", ctr), startTicks: 9000, utime: 40, stime: 8, threads: 9, rssPages: 6000},
			{pid: 1201, ppid: 1200, comm: "spin", exe: "/usr/local/bin/spin", args: []string{"/usr/local/bin/spin", "trigger", "http", "--listen", "0.0.0.0:80"}, cgroup: defaultCgroup("v1", ctr), startTicks: 9010, utime: 4000, stime: 800, threads: 4, rssPages: 12000},
		},
		cgroups: merge(v1Files(ctr, "-1", "9223372036854771712", "max"), v1Files(pod, "100000", "268435456", "max"), map[string]string{
			"memory" + ctr + "/memory.stat":             "cache 76349440\nrss 2326528\ninactive_file 6643712\ntotal_cache 76349440\ntotal_rss 2326528\ntotal_inactive_file 6643712\ntotal_pgfault 41000\ntotal_pgmajfault 7\nhierarchical_memory_limit 268435456\nhierarchical_memsw_limit 9223372036854771712\n",
			"memory" + ctr + "/memory.oom_control":      "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
			"pids" + ctr + "/pids.current":              "13\n",
			"cpu,cpuacct" + ctr + "/cpuacct.usage_user": "42000000000\n",
			"cpu,cpuacct" + ctr + "/cpuacct.usage_sys":  "8000000000\n",
		}),
	}
}

func edgeCatalogScenario() fixtureRoot {
	session := "0::/user.slice/user-1000.slice/session-1.scope\n"
	return fixtureRoot{
		name: "v2-edge-catalog", mode: "v2",
		origin: "Reconstructed. cgroup v2 edge box running the remaining catalog runtimes from a shell or a systemd\n" +
			"service, with command lines as each project's source parses them: wasmedge (lib/driver/uniTool.cpp,\n" +
			"d516c5d6), wasmer run (lib/cli/src/commands/mod.rs, c28c3df3), iwasm (product-mini posix main.c,\n" +
			"646b5a9b), cloud-hypervisor --api-socket/--cpus boot=/--memory size= (src/main.rs, ae44c297),\n" +
			"crosvm run --cpus/--mem/--name, which renames the main thread (src/main.rs, f1e797a6), a\n" +
			"wasmtime compile (tooling, not an instance), and wash host (wasmCloud v2 crates/wash/src/main.rs).\n",
		procs: []fixtureProc{
			{pid: 7000, ppid: 1, comm: "bash", exe: "/usr/bin/bash", args: []string{"-bash"}, cgroup: session, startTicks: 100, rssPages: 1000},
			{pid: 7001, ppid: 7000, comm: "wasmedge", exe: "/usr/local/bin/wasmedge", args: []string{"wasmedge", "--dir", ".:.", "app_aot.cwasm"}, cgroup: session, startTicks: 200, utime: 30, rssPages: 3000},
			{pid: 7002, ppid: 7000, comm: "wasmer", exe: "/usr/local/bin/wasmer", args: []string{"wasmer", "run", "python/python", "--", "-c", "print(1)"}, cgroup: session, startTicks: 210, rssPages: 2000},
			{pid: 7008, ppid: 7000, comm: "wasmtime", exe: "/usr/local/bin/wasmtime", args: []string{"wasmtime", "compile", "app.wasm"}, cgroup: session, startTicks: 220, rssPages: 2000},
			{pid: 7003, ppid: 1, comm: "iwasm", exe: "/usr/bin/iwasm", args: []string{"/usr/bin/iwasm", "--heap-size=65536", "/opt/sensor/sensor.wasm"}, cgroup: "0::/system.slice/sensor.service\n", startTicks: 300, rssPages: 200},
			{pid: 7004, ppid: 1, comm: "cloud-hyperviso", exe: "/usr/bin/cloud-hypervisor", args: []string{"cloud-hypervisor", "--api-socket", "path=/run/ch/edge-vm/api.sock", "--kernel", "vmlinux", "--cpus", "boot=2", "--memory", "size=512M"}, cgroup: "0::/system.slice/ch-edge-vm.service\n", startTicks: 400, threads: 5, rssPages: 25000,
				tasks: []fixtureTask{{tid: 7040, comm: "vmm"}, {tid: 7041, comm: "vcpu0"}, {tid: 7042, comm: "vcpu1"}}},
			{pid: 7005, ppid: 1, comm: "android", exe: "/usr/bin/crosvm", args: []string{"crosvm", "run", "--cpus", "4", "--mem", "1024", "--name", "android", "bzImage"}, cgroup: "0::/system.slice/crosvm.service\n", startTicks: 500, rssPages: 25000},
			{pid: 7006, ppid: 1, comm: "wash", exe: "/usr/local/bin/wash", args: []string{"wash", "host"}, cgroup: "0::/system.slice/wasmcloud.service\n", startTicks: 600, threads: 12, rssPages: 20000},
			{pid: 7007, ppid: 1, comm: "containerd", exe: "/usr/bin/containerd", args: []string{"/usr/bin/containerd"}, cgroup: "0::/system.slice/containerd.service\n", startTicks: 50},
		},
		cgroups: merge(
			v2Files("/system.slice/sensor.service", "10000 100000", "16777216", "16"),
			v2Files("/system.slice/ch-edge-vm.service", "max 100000", "max", "max"),
			v2Files("/system.slice/crosvm.service", "max 100000", "max", "max"),
			v2Files("/system.slice/wasmcloud.service", "max 100000", "536870912", "max"),
			map[string]string{
				"/system.slice/sensor.service/memory.current": "4194304\n",
				"/system.slice/sensor.service/memory.stat":    "anon 2097152\nfile 1048576\ninactive_file 524288\npgfault 100\npgmajfault 0\n",
				"/system.slice/sensor.service/memory.peak":    "5242880\n",
				"/system.slice/sensor.service/pids.current":   "1\n",
				"/system.slice/sensor.service/memory.events":  "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
			},
		),
	}
}

func stackedDevicesScenario() fixtureRoot {
	svc := "/system.slice/wasm-db.service"
	return fixtureRoot{
		name: "v2-dm-over-sd", mode: "v2",
		origin: "Reconstructed. cgroup v2 host whose root is an LVM volume (dm-0, 253:0) on sda (8:0), running a\n" +
			"wasmtime service that writes to it. The block layer charges a bio to the cgroup at each\n" +
			"submit_bio, so io.stat lists the I/O on the dm device and again on the disk below it\n" +
			"(Documentation/admin-guide/cgroup-v2.rst 'IO Interface Files'); /sys/dev/block/<maj:min> links to\n" +
			"the device, whose holders/ lists what is stacked on it (Documentation/ABI/testing/sysfs-block).\n",
		procs: []fixtureProc{
			{pid: 7500, ppid: 1, comm: "wasmtime", exe: "/usr/local/bin/wasmtime", args: []string{"wasmtime", "run", "--dir", "/var/db", "/opt/db.wasm"}, cgroup: "0::" + svc + "\n", startTicks: 800, utime: 200, rssPages: 5000},
		},
		cgroups: merge(v2Files(svc, "max 100000", "max", "max"), map[string]string{
			svc + "/io.stat": "8:0 rbytes=1048576 wbytes=209715200 rios=40 wios=1600 dbytes=0 dios=0\n" +
				"253:0 rbytes=1048576 wbytes=209715200 rios=40 wios=1600 dbytes=0 dios=0\n" +
				"8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
		}),
		sys: map[string]string{
			"dev/block/8:0": "-> ../../devices/pci0000:00/0000:00:10.0/host2/target2:0:0/2:0:0:0/block/sda",
			"devices/pci0000:00/0000:00:10.0/host2/target2:0:0/2:0:0:0/block/sda/holders/dm-0": "-> ../../../../../../../../virtual/block/dm-0",
			"dev/block/253:0":                          "-> ../../devices/virtual/block/dm-0",
			"devices/virtual/block/dm-0/holders/.keep": "",
			"dev/block/8:16":                           "-> ../../devices/pci0000:00/0000:00:10.0/host2/target2:0:1/2:0:1:0/block/sdb",
			"devices/pci0000:00/0000:00:10.0/host2/target2:0:1/2:0:1:0/block/sdb/holders/.keep": "",
		},
	}
}

// tenYears is the uptime of the long-uptime host, in seconds.
const tenYears = 10 * 365 * 86400

func longUptimeScenario() fixtureRoot {
	return fixtureRoot{
		name: "v2-ten-year-uptime", mode: "v2", btime: bootTime - tenYears - 3600,
		origin: "Reconstructed. A host booted ten years ago (btime of /proc/stat, proc(5)) running a wasmtime service\n" +
			"started ten years after boot: its start time in clock ticks (stat field 22) is 31,536,000,000, whose\n" +
			"product with 1e9 overflows int64.\n",
		procs: []fixtureProc{
			{pid: 7600, ppid: 1, comm: "wasmtime", exe: "/usr/local/bin/wasmtime", args: []string{"wasmtime", "run", "/opt/app.wasm"}, cgroup: "0::/system.slice/app.service\n", startTicks: tenYears * 100, utime: 10, rssPages: 100},
		},
		cgroups: v2Idle("/system.slice/app.service"),
	}
}

func brokenScenario() fixtureRoot {
	svc := "/system.slice/hello-wasm.service"
	return fixtureRoot{
		name: "v2-broken", mode: "v2",
		origin: "Written by hand, failure cases: a process listed in /proc whose files are gone (exited between the\n" +
			"directory listing and the read), a truncated stat line, and a matched wasmtime whose cgroup has a\n" +
			"malformed memory.stat and no pids controller files.\n",
		procs: []fixtureProc{
			{pid: 6000, noStat: true},
			{pid: 6001, rawStat: "6001 (wasmtime) S 1 6001"},
			{pid: 6002, ppid: 1, comm: "wasmtime", exe: "/usr/local/bin/wasmtime", args: []string{"wasmtime", "run", "--dir", "/data", "/apps/hello.wasm"}, cgroup: "0::" + svc + "\n", startTicks: 40000, utime: 10, stime: 5, rssPages: 1000},
		},
		cgroups: map[string]string{
			svc + "/cpu.stat":       "usage_usec 150000\nuser_usec 100000\nsystem_usec 50000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
			svc + "/cpu.max":        "max 100000\n",
			svc + "/memory.current": "4096000\n",
			svc + "/memory.max":     "max\n",
			svc + "/memory.stat":    "anon lots\n",
			svc + "/memory.events":  "oom 0\noom_kill 0\n",
			svc + "/io.stat":        "",
		},
	}
}
