package catalog

import "regexp"

var re = regexp.MustCompile

// not returns a subcommand rule that accepts every operand but the given tooling commands.
func not(tooling ...string) func(string) bool {
	set := map[string]bool{}
	for _, t := range tooling {
		set[t] = true
	}
	return func(sub string) bool { return !set[sub] }
}

// only returns a subcommand rule that accepts only the given commands.
func only(cmds ...string) func(string) bool {
	set := map[string]bool{}
	for _, c := range cmds {
		set[c] = true
	}
	return func(sub string) bool { return set[sub] }
}

// builtin is the catalog the components know without configuration.
var builtin = []*Entry{
	{Name: "wasmtime", Kind: KindWasm, comm: re(`^wasmtime$`), extract: extractWasmModule,
		subcommand: not("compile", "config", "explore", "objdump", "settings", "wast", "help", "completion", "hwaccel", "min-platform"),
		Origin:     "bytecodealliance/wasmtime src/commands.rs"},
	{Name: "wasmedge", Kind: KindWasm, comm: re(`^wasmedge$`), extract: extractWasmModule,
		subcommand: not("compile"), Origin: "WasmEdge/WasmEdge tools/wasmedge"},
	{Name: "wasmer", Kind: KindWasm, comm: re(`^wasmer$`), extract: extractWasmModule,
		subcommand: not("publish", "login", "logout", "whoami", "compile", "create-exe", "create-obj", "init", "deploy", "app", "config", "cache", "validate", "inspect", "gen-c-header", "self-update", "add", "package", "namespace", "domain", "ssh", "help"),
		Origin:     "wasmerio/wasmer lib/cli/src/commands/mod.rs"},
	{Name: "spin", Kind: KindWasm, comm: re(`^spin$`), extract: extractWasmModule,
		subcommand: only("up", "trigger"), Origin: "spinframework/spin src/bin/spin.rs"},
	{Name: "wasmcloud", Kind: KindWasm, comm: re(`^wasmcloud`), Origin: "wasmCloud/wasmCloud crates/host"},
	{Name: "wamr", Kind: KindWasm, comm: re(`^iwasm$`), extract: extractWasmModule, Origin: "bytecodealliance/wasm-micro-runtime product-mini"},
	// runwasi: the module runs in youki's container init, which does not exec: its exe stays
	// the shim binary and it sits in the container's cgroup; the shim itself serves the pod.
	{Name: "runwasi", Kind: KindWasm, exe: re(`/containerd-shim-(wasmtime|wasmedge|wasmer|wamr|spin|slight|lunatic|wws)-v\d+$`),
		container: true, extract: extractRunwasi, Origin: "containerd/runwasi crates/containerd-shim-wasm"},
	{Name: "runwasi-shim", Kind: KindWasm, Role: RoleHelper, comm: re(`^containerd-shim`),
		exe: re(`/containerd-shim-(wasmtime|wasmedge|wasmer|wamr|spin|slight|lunatic|wws)-v\d+$`), extract: extractRunwasi,
		Origin: "containerd/runwasi"},
	{Name: "kata", Kind: KindMicroVM, Role: RoleHelper, comm: re(`^containerd-shim`), exe: re(`/containerd-shim-kata-v2$`),
		Origin: "kata-containers/kata-containers src/runtime"},
	{Name: "qemu", Kind: KindVM, VMM: "qemu", comm: re(`^(qemu-system-|qemu-kvm$|kvm$)`), extract: extractQEMU,
		Origin: "qemu docs/system/invocation.rst"},
	// Release binaries are firecracker-v1.x.y-<arch>; comm keeps 15 bytes of it.
	{Name: "firecracker", Kind: KindMicroVM, VMM: "firecracker", comm: re(`^firecracker`), extract: extractFirecracker,
		Origin: "firecracker-microvm/firecracker src/jailer"},
	{Name: "jailer", Kind: KindMicroVM, VMM: "firecracker", Role: RoleHelper, comm: re(`^jailer`), Origin: "firecracker-microvm/firecracker src/jailer"},
	{Name: "cloud_hypervisor", Kind: KindMicroVM, VMM: "cloud_hypervisor", comm: re(`^cloud-hyperviso`), extract: extractCloudHypervisor,
		Origin: "cloud-hypervisor/cloud-hypervisor"},
	{Name: "crosvm", Kind: KindMicroVM, VMM: "crosvm", comm: re(`^crosvm$`), extract: extractCrosvm, subcommand: only("run"),
		Origin: "google/crosvm"},
	// gVisor re-executes runsc with argv[0] "runsc-sandbox"; comm stays the file name.
	{Name: "gvisor", Kind: KindSandbox, comm: re(`^(runsc|exe)`), cmdline: re(`^runsc-sandbox( |$)`), Origin: "google/gvisor runsc/sandbox"},
	{Name: "gvisor-gofer", Kind: KindSandbox, Role: RoleHelper, comm: re(`^(runsc|exe)`), cmdline: re(`^runsc-gofer( |$)`), Origin: "google/gvisor runsc/container"},
}
