package wasmruntimereceiver

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// identity is what discovery knows about an instance beyond its processes and cgroup.
type identity struct {
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

// merge fills the empty fields of id from o.
func (id *identity) merge(o identity) {
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

// matcher recognises one runtime. comm is checked first because it comes with the stat line
// every process is read for anyway; exe and cmdline cost a read each and are only fetched (once
// per process lifetime) for processes whose comm passed.
type matcher struct {
	name, kind, vmm string
	comm            *regexp.Regexp
	exe             *regexp.Regexp
	cmdline         *regexp.Regexp
	// extract derives identity from the arguments (built-in runtimes).
	extract func(args []string, exe string, id *identity)
	// attrs are user-defined attribute extractions on the joined command line.
	attrs map[string]*regexp.Regexp
}

func (m *matcher) needsCmdline() bool {
	return m.cmdline != nil || m.extract != nil || len(m.attrs) > 0
}

// builtinCatalog returns the runtimes the receiver knows without configuration.
func builtinCatalog() []*matcher {
	re := regexp.MustCompile
	return []*matcher{
		{name: "wasmtime", kind: KindWasm, comm: re(`^wasmtime$`), extract: extractWasmModule},
		{name: "wasmedge", kind: KindWasm, comm: re(`^wasmedge$`), extract: extractWasmModule},
		{name: "wasmer", kind: KindWasm, comm: re(`^wasmer$`), extract: extractWasmModule},
		{name: "spin", kind: KindWasm, comm: re(`^spin$`), extract: extractWasmModule},
		{name: "wasmcloud", kind: KindWasm, comm: re(`^wasmcloud`)},
		{name: "iwasm", kind: KindWasm, comm: re(`^iwasm$`), extract: extractWasmModule},
		// runwasi shims: comm is cut to 15 bytes ("containerd-shim"), so the exe decides.
		{name: "runwasi", kind: KindWasm, comm: re(`^containerd-shim`), exe: re(`/containerd-shim-(wasmtime|wasmedge|wasmer|spin|slight|lunatic|wws|wasm)-v\d+$`), extract: extractRunwasi},
		{name: "kata", kind: KindMicroVM, comm: re(`^containerd-shim`), exe: re(`/containerd-shim-kata-v2$`)},
		{name: "qemu", kind: KindVM, vmm: "qemu", comm: re(`^(qemu-system-|qemu-kvm$|kvm$)`), extract: extractQEMU},
		{name: "firecracker", kind: KindMicroVM, vmm: "firecracker", comm: re(`^(firecracker|jailer)$`), extract: extractFirecracker},
		{name: "cloud-hypervisor", kind: KindMicroVM, vmm: "cloud_hypervisor", comm: re(`^cloud-hyperviso`), extract: extractCloudHypervisor},
		{name: "crosvm", kind: KindMicroVM, vmm: "crosvm", comm: re(`^crosvm$`), extract: extractCrosvm},
		// gVisor re-executes runsc with argv[0] "runsc-sandbox"; comm stays the file name.
		{name: "gvisor", kind: KindSandbox, comm: re(`^(runsc|exe)`), cmdline: re(`^runsc-sandbox( |$)`)},
	}
}

// userMatchers compiles the configured runtimes (Validate has checked the expressions).
func userMatchers(rts []RuntimeMatcher) []*matcher {
	out := make([]*matcher, 0, len(rts))
	for _, rt := range rts {
		m := &matcher{name: rt.Name, kind: rt.Kind}
		if rt.Comm != "" {
			m.comm = regexp.MustCompile(rt.Comm)
		}
		if rt.Exe != "" {
			m.exe = regexp.MustCompile(rt.Exe)
		}
		if rt.Cmdline != "" {
			m.cmdline = regexp.MustCompile(rt.Cmdline)
		}
		if len(rt.Attributes) > 0 {
			m.attrs = make(map[string]*regexp.Regexp, len(rt.Attributes))
			for k, v := range rt.Attributes {
				m.attrs[k] = regexp.MustCompile(v)
			}
		}
		if rt.Kind == KindVM || rt.Kind == KindMicroVM {
			m.vmm = rt.Name
		}
		out = append(out, m)
	}
	return out
}

// applyUserAttrs runs the user's extraction expressions on the joined command line.
func (m *matcher) applyUserAttrs(joined string, id *identity) {
	for k, re := range m.attrs {
		sm := re.FindStringSubmatch(joined)
		if len(sm) < 2 || sm[1] == "" {
			continue
		}
		v := sm[1]
		switch k {
		case "wasm_runtime.wasm.module":
			id.WasmModule = v
		case "wasm_runtime.vm.name":
			id.VMName = v
		case "wasm_runtime.vm.id":
			id.VMID = v
		case "wasm_runtime.vmm":
			id.VMM = v
		case "wasm_runtime.vm.vcpus":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				id.VCPUs = n
			}
		case "wasm_runtime.vm.memory_size":
			if n, ok := parseSize(v, 1); ok {
				id.MemorySize = n
			}
		default:
			if id.Extra == nil {
				id.Extra = map[string]string{}
			}
			id.Extra[k] = v
		}
	}
}

// extractWasmModule takes the first argument naming a Wasm module file.
func extractWasmModule(args []string, _ string, id *identity) {
	for _, a := range args[min(1, len(args)):] {
		if strings.HasPrefix(a, "-") {
			if _, v, ok := strings.Cut(a, "="); ok {
				a = v
			} else {
				continue
			}
		}
		if strings.HasSuffix(a, ".wasm") || strings.HasSuffix(a, ".cwasm") || strings.HasSuffix(a, ".wat") {
			id.WasmModule = path.Base(a)
			return
		}
	}
}

var runwasiEngine = regexp.MustCompile(`containerd-shim-([a-z]+)-v\d+$`)

func extractRunwasi(_ []string, exe string, id *identity) {
	if m := runwasiEngine.FindStringSubmatch(exe); m != nil {
		id.Runtime = m[1]
	}
}

// extractQEMU reads -name, -uuid, -smp and -m (qemu-system-*(1)).
func extractQEMU(args []string, _ string, id *identity) {
	for i := 1; i < len(args); i++ {
		opt := strings.TrimPrefix(args[i], "-") // qemu accepts -opt and --opt
		opt = strings.TrimPrefix(opt, "-")
		val := ""
		if k, v, ok := strings.Cut(opt, "="); ok && !strings.Contains(k, ",") {
			opt, val = k, v
		} else if i+1 < len(args) {
			val = args[i+1]
		}
		switch opt {
		case "name":
			// "-name guest=web,debug-threads=on" or "-name web"
			n := keyedOrFirst(val, "guest")
			id.VMName = n
			if strings.HasPrefix(n, "sandbox-") { // Kata names its VM sandbox-<id>
				id.Kind = KindMicroVM
				if id.VMID == "" {
					id.VMID = strings.TrimPrefix(n, "sandbox-")
				}
			}
		case "uuid":
			id.VMID = val
		case "smp":
			// "-smp 2", "-smp cpus=2,sockets=1", "-smp sockets=1,cores=2,threads=1"
			if n, err := strconv.ParseInt(keyedOrFirst(val, "cpus"), 10, 64); err == nil {
				id.VCPUs = n
			} else {
				prod := int64(1)
				found := false
				for _, kv := range strings.Split(val, ",") {
					k, v, _ := strings.Cut(kv, "=")
					if k == "sockets" || k == "cores" || k == "threads" || k == "dies" || k == "clusters" {
						if n, err := strconv.ParseInt(v, 10, 64); err == nil {
							prod *= n
							found = true
						}
					}
				}
				if found {
					id.VCPUs = prod
				}
			}
		case "m":
			// "-m 64", "-m 512M", "-m size=2G,slots=4,maxmem=8G"; a bare number is MiB.
			if n, ok := parseSize(keyedOrFirst(val, "size"), 1<<20); ok {
				id.MemorySize = n
			}
		case "machine", "M":
			if strings.HasPrefix(val, "microvm") || strings.Contains(val, "type=microvm") {
				id.Kind = KindMicroVM
			}
		}
	}
}

// keyedOrFirst returns key's value in a qemu-style "a=1,b=2" list, or the first element when
// it is not keyed.
func keyedOrFirst(val, key string) string {
	parts := strings.Split(val, ",")
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, key+"="); ok {
			return v
		}
	}
	if len(parts) > 0 && !strings.Contains(parts[0], "=") {
		return parts[0]
	}
	return ""
}

// parseSize parses "64", "512M", "2G", "1048576K", "512MiB"; a bare number is multiplied by unit.
func parseSize(s string, unit int64) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B")
	if s == "" {
		return 0, false
	}
	mult := unit
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != unit || (s[len(s)-1] < '0' || s[len(s)-1] > '9') {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

// flagValue returns the value of "--flag v" or "--flag=v".
func flagValue(args []string, names ...string) string {
	for i := 1; i < len(args); i++ {
		for _, n := range names {
			if args[i] == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(args[i], n+"="); ok {
				return v
			}
		}
	}
	return ""
}

func extractFirecracker(args []string, _ string, id *identity) {
	id.VMID = flagValue(args, "--id")
}

func extractCloudHypervisor(args []string, _ string, id *identity) {
	if v := flagValue(args, "--cpus"); v != "" {
		if n, err := strconv.ParseInt(keyedOrFirst(v, "boot"), 10, 64); err == nil {
			id.VCPUs = n
		}
	}
	if v := flagValue(args, "--memory"); v != "" {
		if n, ok := parseSize(keyedOrFirst(v, "size"), 1); ok {
			id.MemorySize = n
		}
	}
	if v := flagValue(args, "--api-socket"); v != "" && id.VMName == "" {
		// kata and most launchers put the VM id in the socket path
		id.VMName = path.Base(path.Dir(keyedOrFirst(v, "path")))
	}
}

func extractCrosvm(args []string, _ string, id *identity) {
	if v := flagValue(args, "--cpus", "-c"); v != "" {
		if n, err := strconv.ParseInt(keyedOrFirst(v, "num-cores"), 10, 64); err == nil {
			id.VCPUs = n
		}
	}
	if v := flagValue(args, "--mem", "-m"); v != "" {
		if n, ok := parseSize(keyedOrFirst(v, "size"), 1<<20); ok {
			id.MemorySize = n
		}
	}
	if v := flagValue(args, "--name"); v != "" {
		id.VMName = v
	}
}
