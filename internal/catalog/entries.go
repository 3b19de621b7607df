package catalog

import (
	"regexp"
	"strings"
)

var re = regexp.MustCompile

// not returns a subcommand rule for CLIs whose default is to run: it refuses a command line
// whose first operand is one of the tooling commands.
func not(tooling ...string) func([]string) bool {
	set := map[string]bool{}
	for _, t := range tooling {
		set[t] = true
	}
	return func(args []string) bool {
		ops := operands(args, 1)
		return len(ops) == 0 || !set[ops[0]]
	}
}

// only returns a subcommand rule for CLIs that run only under given commands: one of the first
// operands (global options may take a value before the command) must be one of them.
func only(cmds ...string) func([]string) bool {
	set := map[string]bool{}
	for _, c := range cmds {
		set[c] = true
	}
	return func(args []string) bool {
		for _, op := range operands(args, 3) {
			if set[op] {
				return true
			}
		}
		return false
	}
}

// operands returns up to n arguments after argv[0] that are not options.
func operands(args []string, n int) []string {
	var out []string
	for _, a := range args[min(1, len(args)):] {
		if len(out) == n {
			break
		}
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// runwasiShims are the shim binaries of runwasi (containerd-shim-{wasmtime,wasmedge,wasmer,
// wamr}-v1, crates/*/Cargo.toml [[bin]]), the Spin shim (containerd-shim-spin-v2) and older
// ones (slight, lunatic, wws); the engine is linked into the shim.
const runwasiShims = `/containerd-shim-(wasmtime|wasmedge|wasmer|wamr|spin|slight|lunatic|wws)-v\d+$`

// builtin is the catalog the components know without configuration.
var builtin = []*Entry{
	// crun's Wasm handlers run the module in crun's own process after renaming it to the
	// handler (prctl PR_SET_NAME: wasmedge, wasmer, wasmtime, wamr) and rewriting argv to
	// "[libcrun:<name>] <args>" (containers/crun src/libcrun/container.c, commit ba38286f;
	// crun >= 1.7). Checked first: the comm is the CLI's.
	{Name: "crun-wasm", Kind: KindWasm, comm: re(`^(wasmedge|wasmer|wasmtime|wamr)$`),
		cmdline: re(`^\[libcrun:(wasmedge|wasmer|wasmtime|wamr)\]`), extract: extractCrunWasm,
		Origin: "containers/crun src/libcrun/container.c, commit ba38286f"},
	// wasmtime run/serve, or a module as the first operand; the rest is tooling
	// (src/bin/wasmtime.rs, commit e6b33de5).
	{Name: "wasmtime", Kind: KindWasm, comm: re(`^wasmtime$`), extract: extractWasmModule,
		subcommand: not("config", "compile", "explore", "settings", "wast", "completion", "objdump", "wizer", "hot-blocks", "help"),
		Origin:     "bytecodealliance/wasmtime src/bin/wasmtime.rs, commit e6b33de5"},
	// wasmedge <file> or wasmedge run; compile/parse/instantiate/validate are tooling
	// (lib/driver/uniTool.cpp, commit d516c5d6).
	{Name: "wasmedge", Kind: KindWasm, comm: re(`^wasmedge$`), extract: extractWasmModule,
		subcommand: not("compile", "parse", "instantiate", "validate", "help"),
		Origin:     "WasmEdge/WasmEdge lib/driver/uniTool.cpp, commit d516c5d6"},
	// wasmer run (run-unstable) or a file or package as the first operand
	// (lib/cli/src/commands/mod.rs, commit c28c3df3).
	{Name: "wasmer", Kind: KindWasm, comm: re(`^wasmer$`), extract: extractWasmModule,
		subcommand: not("login", "auth", "publish", "cache", "validate", "compile", "create-exe", "create-obj", "gen-c-header",
			"config", "self-update", "inspect", "init", "wast", "binfmt", "whoami", "add", "journal", "package", "container",
			"deploy", "app", "ssh", "namespace", "domain", "gen-completions", "gen-man", "help"),
		Origin: "wasmerio/wasmer lib/cli/src/commands/mod.rs, commit c28c3df3"},
	// spin up re-executes itself as "spin trigger <type>", the long-running instance; both are
	// kept (one instance, by cgroup or ancestry). build, new, deploy, plugins... are tooling
	// (src/commands/up.rs, commit 94a8fc8a).
	{Name: "spin", Kind: KindWasm, comm: re(`^spin$`), extract: extractWasmModule,
		subcommand: only("up", "trigger"), Origin: "spinframework/spin src/commands/up.rs, commit 94a8fc8a"},
	// wasmCloud v1: the wasmcloud binary, or wasmcloud_host as wash up starts it
	// (crates/wash/src/lib/start/wasmcloud.rs, v1.9.2); v2: wash host / wash dev embed the host.
	{Name: "wasmcloud", Kind: KindWasm, comm: re(`^wasmcloud`), Origin: "wasmCloud/wasmCloud crates/host, v1.9.2 (e79bcf99)"},
	{Name: "wasmcloud", Kind: KindWasm, comm: re(`^wash$`), subcommand: only("host", "dev"),
		Origin: "wasmCloud/wasmCloud crates/wash/src/main.rs, v2.0.0 (42d201ae)"},
	// WAMR's iwasm has no subcommands; wamrc, the AoT compiler, has another comm.
	{Name: "wamr", Kind: KindWasm, comm: re(`^iwasm$`), extract: extractWasmModule,
		Origin: "bytecodealliance/wasm-micro-runtime product-mini/platforms/posix/main.c, commit 646b5a9b"},
	// runwasi: the module runs in youki's container init, which does not exec: comm
	// "youki:[2:INIT]", exe the shim, in the container's cgroup (youki
	// crates/libcontainer/src/process/container_intermediate_process.rs set_name, the same from
	// v0.1.0 to v0.7.0; runwasi crates/containerd-shim-wasm/src/sys/unix/container/
	// instance.rs, commit eb9967aa). Shims before youki (containerd-shim-wasm 0.1) forked the
	// workload under the shim's own comm, still into the container's cgroup.
	{Name: "runwasi", Kind: KindWasm, comm: re(`^(youki:\[2:INIT\]|containerd-shim)$`), exe: re(runwasiShims), container: true,
		extract: extractRunwasi, Origin: "containerd/runwasi crates/containerd-shim-wasm, commit eb9967aa"},
	// The shim itself, its zygotes and youki's intermediate process stay in containerd's
	// cgroup (the synchronous shim API never moves them; ShimCgroup is runc-only): they serve
	// the pod and make no instance.
	{Name: "runwasi", Kind: KindWasm, Role: RoleHelper, comm: re(`^containerd-shim`), exe: re(runwasiShims), extract: extractRunwasi,
		Origin: "containerd/runwasi, containerd/rust-extensions crates/shim/src/synchronous/mod.rs, commit ae876e3a"},
	// The Kata shim moves itself into the sandbox or the kata_overhead cgroup before it starts
	// the VMM (virtcontainers/sandbox.go setupResourceController); with Dragonball the VMM
	// runs inside the shim (runtime-rs). Either way it belongs to the sandbox instance.
	{Name: "kata", Kind: KindMicroVM, comm: re(`^containerd-shim`), exe: re(`/containerd-shim-kata-v2$`),
		Origin: "kata-containers/kata-containers src/runtime/virtcontainers/sandbox.go, commit 7c6ba40c"},
	// Proxmox VE runs /usr/bin/kvm (comm "kvm"), libvirt and users qemu-system-<arch>.
	{Name: "qemu", Kind: KindVM, VMM: "qemu", comm: re(`^(qemu-system-|qemu-kvm$|kvm$)`), extract: extractQEMU,
		Origin: "qemu docs/system/invocation.rst; proxmox/qemu-server src/PVE/QemuServer.pm, commit e6352be6"},
	// Release binaries are firecracker-v1.x.y-<arch> (tools/release.sh); comm keeps 15 bytes of
	// the name the jailer execs, the binary's resolved name (src/jailer/src/env.rs, commit
	// 81b38b9d). The jailer execs firecracker in its own process, so it is a helper only until
	// then.
	{Name: "firecracker", Kind: KindMicroVM, VMM: "firecracker", comm: re(`^firecracker`), extract: extractFirecracker, extractFiles: extractFirecrackerConfig,
		Origin: "firecracker-microvm/firecracker src/jailer/src/env.rs, commit 81b38b9d"},
	{Name: "jailer", Kind: KindMicroVM, VMM: "firecracker", Role: RoleHelper, comm: re(`^jailer`),
		Origin: "firecracker-microvm/firecracker src/jailer/src/main.rs, commit 81b38b9d"},
	{Name: "cloud_hypervisor", Kind: KindMicroVM, VMM: "cloud_hypervisor", comm: re(`^cloud-hyperviso`), extract: extractCloudHypervisor,
		Origin: "cloud-hypervisor/cloud-hypervisor"},
	// crosvm --name renames the main thread (truncated to 15 bytes), so the exe decides.
	{Name: "crosvm", Kind: KindMicroVM, VMM: "crosvm", exe: re(`/crosvm$`), extract: extractCrosvm, subcommand: only("run"),
		Origin: "google/crosvm src/main.rs set_thread_name, commit f1e797a6"},
	// gVisor starts its sandbox and gofer from /proc/self/exe with argv[0] "runsc-sandbox" and
	// "runsc-gofer", so their comm is "exe" (google/gvisor runsc/sandbox/sandbox.go and
	// runsc/container/container.go, commit 3c5eee17 and release-20221219.0); newer releases
	// may run a gvisor_sentry binary next to runsc as the sandbox.
	{Name: "gvisor", Kind: KindSandbox, comm: re(`^(exe|runsc|gvisor_sentry)`), cmdline: re(`^(runsc-sandbox|\S*gvisor_sentry)( |$)`),
		Origin: "google/gvisor runsc/sandbox/sandbox.go, commit 3c5eee17"},
	{Name: "gvisor-gofer", Kind: KindSandbox, Role: RoleHelper, comm: re(`^(exe|runsc)`), cmdline: re(`^runsc-gofer( |$)`),
		Origin: "google/gvisor runsc/container/container.go, commit 3c5eee17"},
}
