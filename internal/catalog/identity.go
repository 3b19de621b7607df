// Package catalog is otelcol-virt's one catalog of the runtimes it recognises: which processes
// are Wasm engines, VMMs and sandboxes, what each is called (the runtime.name every component
// reports), and what its command line tells about the instance (VM name and size, Wasm module).
// The wasm_runtime receiver's discovery and the virtualization_attributes processor's own
// lookups both match processes here, so one process gets one name whichever component sees it.
package catalog

// Isolation kinds of an instance.
const (
	KindWasm      = "wasm"
	KindMicroVM   = "microvm"
	KindVM        = "vm"
	KindSandbox   = "sandbox"
	KindContainer = "container"
	// KindProcess is a process that no runtime runs: the host's own.
	KindProcess = "process"
)

// Kinds are the kinds a user matcher may give.
var Kinds = []string{KindWasm, KindMicroVM, KindVM, KindSandbox, KindContainer}

// Identity is what a process's names and command line tell about the instance it runs.
type Identity struct {
	Runtime    string
	Kind       string
	VMM        string
	VMName     string
	VMID       string
	VCPUs      int64
	MemorySize int64 // bytes
	WasmModule string
	// Extra are user-extracted attributes that are not one of the fields above.
	Extra map[string]string
}

// Merge fills the empty fields of id from o (several matched processes of one instance: a
// Kata shim and its VMM).
func (id *Identity) Merge(o Identity) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&id.Runtime, o.Runtime)
	fill(&id.Kind, o.Kind)
	fill(&id.VMM, o.VMM)
	fill(&id.VMName, o.VMName)
	fill(&id.VMID, o.VMID)
	fill(&id.WasmModule, o.WasmModule)
	if id.VCPUs == 0 {
		id.VCPUs = o.VCPUs
	}
	if id.MemorySize == 0 {
		id.MemorySize = o.MemorySize
	}
	for k, v := range o.Extra {
		if id.Extra == nil {
			id.Extra = map[string]string{}
		}
		if _, ok := id.Extra[k]; !ok {
			id.Extra[k] = v
		}
	}
}
