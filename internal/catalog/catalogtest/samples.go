// Package catalogtest holds one example process of every runtime the catalog knows, as each
// runtime's upstream source lays it out, for the tests of the components that match processes
// against the catalog.
package catalogtest

// Sample is a process of one runtime, and what the catalog must say about it.
type Sample struct {
	Name string
	// Origin is the upstream source the process's names and arguments follow.
	Origin string
	Comm   string
	Exe    string
	Args   []string
	// Cgroup is the process's cgroup path (its unified or identity path).
	Cgroup string
	// Files are files the arguments name, by the path the process gives.
	Files map[string]string

	// Runtime and Kind are the expected runtime.name and isolation kind; Runtime "" means the
	// catalog must not match the process (a tool, a helper).
	Runtime, Kind string
	// Helper is true for a process the catalog knows but that makes no instance.
	Helper bool
}

const (
	cid    = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	podSys = "7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11"
	sid    = "9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
)

// ContainerScope is a systemd-driver container cgroup of a burstable pod.
const ContainerScope = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSys + ".slice/cri-containerd-" + cid + ".scope"

// Samples lists the examples; every built-in entry has at least one that matches.
func Samples() []Sample {
	shimArgs := []string{"/usr/local/bin/containerd-shim-wasmtime-v1", "-namespace", "k8s.io", "-id", sid, "-address", "/run/containerd/containerd.sock"}
	return []Sample{
		{Name: "wasmtime run", Origin: "wasmtime src/bin/wasmtime.rs", Comm: "wasmtime", Exe: "/usr/local/bin/wasmtime",
			Args: []string{"wasmtime", "run", "--dir", "/data", "/apps/handler.wasm"}, Cgroup: "/system.slice/handler.service", Runtime: "wasmtime", Kind: "wasm"},
		{Name: "wasmtime serve", Origin: "wasmtime src/bin/wasmtime.rs", Comm: "wasmtime", Exe: "/usr/local/bin/wasmtime",
			Args: []string{"wasmtime", "serve", "proxy.wasm"}, Cgroup: "/system.slice/proxy.service", Runtime: "wasmtime", Kind: "wasm"},
		{Name: "wasmtime compile (tooling)", Origin: "wasmtime src/bin/wasmtime.rs", Comm: "wasmtime", Exe: "/usr/local/bin/wasmtime",
			Args: []string{"wasmtime", "compile", "app.wasm"}, Cgroup: "/user.slice"},
		{Name: "wasmedge module", Origin: "WasmEdge lib/driver/uniTool.cpp", Comm: "wasmedge", Exe: "/usr/local/bin/wasmedge",
			Args: []string{"wasmedge", "--dir", ".:.", "app_aot.cwasm"}, Cgroup: "/user.slice", Runtime: "wasmedge", Kind: "wasm"},
		{Name: "wasmedge compile (tooling)", Origin: "WasmEdge lib/driver/uniTool.cpp", Comm: "wasmedge", Exe: "/usr/local/bin/wasmedge",
			Args: []string{"wasmedge", "compile", "app.wasm", "app_aot.wasm"}, Cgroup: "/user.slice"},
		{Name: "wasmer run", Origin: "wasmer lib/cli/src/commands/mod.rs", Comm: "wasmer", Exe: "/usr/local/bin/wasmer",
			Args: []string{"wasmer", "run", "python/python", "--", "-c", "print(1)"}, Cgroup: "/user.slice", Runtime: "wasmer", Kind: "wasm"},
		{Name: "wasmer publish (tooling)", Origin: "wasmer lib/cli/src/commands/mod.rs", Comm: "wasmer", Exe: "/usr/local/bin/wasmer",
			Args: []string{"wasmer", "publish"}, Cgroup: "/user.slice"},
		{Name: "spin up", Origin: "spin src/commands/up.rs", Comm: "spin", Exe: "/usr/local/bin/spin",
			Args: []string{"spin", "up", "--from", "/app/spin.toml"}, Cgroup: "/user.slice", Runtime: "spin", Kind: "wasm"},
		{Name: "spin trigger http", Origin: "spin src/commands/up.rs (re-exec of current_exe)", Comm: "spin", Exe: "/usr/local/bin/spin",
			Args: []string{"/usr/local/bin/spin", "trigger", "http", "--listen", "127.0.0.1:3000"}, Cgroup: "/user.slice", Runtime: "spin", Kind: "wasm"},
		{Name: "spin build (tooling)", Origin: "spin src/lib.rs", Comm: "spin", Exe: "/usr/local/bin/spin",
			Args: []string{"spin", "build"}, Cgroup: "/user.slice"},
		{Name: "wasmcloud host v1", Origin: "wasmCloud crates/wash/src/lib/start/wasmcloud.rs (wash up starts wasmcloud_host)", Comm: "wasmcloud_host",
			Exe: "/root/.wash/downloads/v1.9.2/wasmcloud_host", Args: []string{"/root/.wash/downloads/v1.9.2/wasmcloud_host"}, Cgroup: "/user.slice", Runtime: "wasmcloud", Kind: "wasm"},
		{Name: "wash host v2", Origin: "wasmCloud crates/wash/src/main.rs", Comm: "wash", Exe: "/usr/local/bin/wash",
			Args: []string{"wash", "host"}, Cgroup: "/system.slice/wasmcloud.service", Runtime: "wasmcloud", Kind: "wasm"},
		{Name: "wash build (tooling)", Origin: "wasmCloud crates/wash/src/main.rs", Comm: "wash", Exe: "/usr/local/bin/wash",
			Args: []string{"wash", "build"}, Cgroup: "/user.slice"},
		{Name: "iwasm", Origin: "wasm-micro-runtime product-mini/platforms/posix/main.c", Comm: "iwasm", Exe: "/usr/bin/iwasm",
			Args: []string{"/usr/bin/iwasm", "--heap-size=65536", "/opt/sensor/sensor.wasm"}, Cgroup: "/system.slice/sensor.service", Runtime: "wamr", Kind: "wasm"},
		{Name: "runwasi container init", Origin: "runwasi containerd-shim-wasm instance.rs (as_sibling), youki set_name youki:[2:INIT]",
			Comm: "youki:[2:INIT]", Exe: "/usr/local/bin/containerd-shim-wasmtime-v1", Args: shimArgs, Cgroup: ContainerScope, Runtime: "wasmtime", Kind: "wasm"},
		{Name: "runwasi shim (helper)", Origin: "rust-extensions synchronous shim: the shim stays in containerd's cgroup",
			Comm: "containerd-shim", Exe: "/usr/local/bin/containerd-shim-wasmtime-v1", Args: shimArgs, Cgroup: "/system.slice/containerd.service", Runtime: "wasmtime", Kind: "wasm", Helper: true},
		{Name: "spin shim container init", Origin: "spinframework/containerd-shim-spin (runwasi-based)", Comm: "youki:[2:INIT]",
			Exe: "/usr/local/bin/containerd-shim-spin-v2", Args: []string{"/usr/local/bin/containerd-shim-spin-v2", "-namespace", "k8s.io", "-id", sid}, Cgroup: ContainerScope, Runtime: "spin", Kind: "wasm"},
		{Name: "wamr shim container init", Origin: "runwasi crates/containerd-shim-wamr", Comm: "youki:[2:INIT]",
			Exe: "/usr/local/bin/containerd-shim-wamr-v1", Args: []string{"/usr/local/bin/containerd-shim-wamr-v1", "-namespace", "k8s.io", "-id", sid}, Cgroup: ContainerScope, Runtime: "wamr", Kind: "wasm"},
		{Name: "crun wasmedge handler", Origin: "crun src/libcrun/container.c (PR_SET_NAME, rewrite_argv)", Comm: "wasmedge", Exe: "/usr/bin/crun",
			Args: []string{"[libcrun:wasmedge]", "/app/hello.wasm"}, Cgroup: "/machine.slice/libpod-" + cid + ".scope/container", Runtime: "wasmedge", Kind: "wasm"},
		{Name: "qemu libvirt", Origin: "libvirt src/qemu/qemu_command.c", Comm: "qemu-system-x86", Exe: "/usr/bin/qemu-system-x86_64",
			Args: []string{"/usr/bin/qemu-system-x86_64", "-name", "guest=web-01,debug-threads=on", "-smp", "2"}, Cgroup: `/machine.slice/machine-qemu\x2d3\x2dweb\x2d01.scope/libvirt/emulator`, Runtime: "qemu", Kind: "vm"},
		{Name: "proxmox kvm", Origin: "proxmox/qemu-server QemuServer.pm", Comm: "kvm", Exe: "/usr/bin/qemu-system-x86_64",
			Args: []string{"/usr/bin/kvm", "-id", "104", "-name", "web,debug-threads=on"}, Cgroup: "/qemu.slice/104.scope", Runtime: "qemu", Kind: "vm"},
		{Name: "kata qemu", Origin: "kata-containers virtcontainers/qemu.go (-name sandbox-<id>)", Comm: "qemu-system-x86", Exe: "/opt/kata/bin/qemu-system-x86_64",
			Args: []string{"/opt/kata/bin/qemu-system-x86_64", "-name", "sandbox-" + sid}, Cgroup: "/kubepods/burstable/pod" + podSys + "/kata_" + sid, Runtime: "kata", Kind: "microvm"},
		{Name: "kata shim", Origin: "kata-containers virtcontainers/sandbox.go", Comm: "containerd-shim", Exe: "/usr/bin/containerd-shim-kata-v2",
			Args: []string{"/usr/bin/containerd-shim-kata-v2", "-namespace", "k8s.io", "-id", sid}, Cgroup: "/kata_overhead/" + sid, Runtime: "kata", Kind: "microvm"},
		{Name: "firecracker release binary", Origin: "firecracker tools/release.sh, src/jailer/src/env.rs", Comm: "firecracker-v1.",
			Exe: "/srv/jailer/firecracker-v1.12.0-x86_64/vm1/root/firecracker-v1.12.0-x86_64", Args: []string{"/firecracker-v1.12.0-x86_64", "--id", "vm1", "--start-time-us", "1"},
			Cgroup: "/firecracker-v1.12.0-x86_64/vm1", Runtime: "firecracker", Kind: "microvm"},
		{Name: "jailer (helper)", Origin: "firecracker src/jailer", Comm: "jailer", Exe: "/usr/local/bin/jailer",
			Args: []string{"jailer", "--id", "vm1", "--exec-file", "/usr/local/bin/firecracker"}, Cgroup: "/", Runtime: "jailer", Kind: "microvm", Helper: true},
		{Name: "cloud-hypervisor", Origin: "cloud-hypervisor src/main.rs", Comm: "cloud-hyperviso", Exe: "/usr/bin/cloud-hypervisor",
			Args: []string{"cloud-hypervisor", "--api-socket", "path=/run/ch/edge.sock", "--cpus", "boot=2", "--memory", "size=512M"}, Cgroup: "/system.slice/ch-edge.service", Runtime: "cloud_hypervisor", Kind: "microvm"},
		{Name: "cloud-hypervisor under kata", Origin: "kata virtcontainers/clh.go", Comm: "cloud-hyperviso", Exe: "/opt/kata/bin/cloud-hypervisor",
			Args: []string{"/opt/kata/bin/cloud-hypervisor", "--api-socket", "/run/vc/vm/" + sid + "/clh-api.sock"}, Cgroup: "/kubepods/besteffort/pod" + podSys + "/kata_" + sid, Runtime: "kata", Kind: "microvm"},
		{Name: "crosvm named", Origin: "crosvm src/main.rs (--name renames the main thread)", Comm: "android", Exe: "/usr/bin/crosvm",
			Args: []string{"crosvm", "--log-level", "info", "run", "--cpus", "4", "--name", "android", "bzImage"}, Cgroup: "/system.slice/crosvm.service", Runtime: "crosvm", Kind: "microvm"},
		{Name: "gvisor sandbox", Origin: "gvisor runsc/sandbox/sandbox.go (argv[0] runsc-sandbox, comm exe)", Comm: "exe", Exe: "/usr/bin/runsc",
			Args: []string{"runsc-sandbox", "--root=/var/run/runsc", "boot", "--bundle=/tmp/b"}, Cgroup: "/runsc-004217", Runtime: "gvisor", Kind: "sandbox"},
		{Name: "gvisor gofer (helper)", Origin: "gvisor runsc/container/container.go (argv[0] runsc-gofer)", Comm: "exe", Exe: "/usr/bin/runsc",
			Args: []string{"runsc-gofer", "--root=/var/run/runsc", "gofer", "--bundle=/tmp/b"}, Cgroup: "/runsc-004217", Runtime: "gvisor-gofer", Kind: "sandbox", Helper: true},
		{Name: "containerd (not a runtime)", Origin: "-", Comm: "containerd", Exe: "/usr/bin/containerd", Args: []string{"/usr/bin/containerd"}, Cgroup: "/system.slice/containerd.service"},
	}
}
