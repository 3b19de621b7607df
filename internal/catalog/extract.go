package catalog

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/vmmargs"
)

// extractWasmModule takes the first argument naming a Wasm module file.
func extractWasmModule(args []string, _ string, id *Identity) {
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

var crunHandler = regexp.MustCompile(`^\[libcrun:([a-z]+)\]`)

// extractCrunWasm names the engine from crun's rewritten argv[0] and takes the module from the
// OCI process arguments that follow it.
func extractCrunWasm(args []string, _ string, id *Identity) {
	if len(args) > 0 {
		if m := crunHandler.FindStringSubmatch(args[0]); m != nil {
			id.Runtime = m[1]
		}
	}
	for _, a := range args[min(1, len(args)):] {
		if strings.HasSuffix(a, ".wasm") || strings.HasSuffix(a, ".wat") || strings.HasSuffix(a, ".cwasm") {
			id.WasmModule = path.Base(a)
			return
		}
	}
}

var runwasiEngine = regexp.MustCompile(`containerd-shim-([a-z]+)-v\d+$`)

func extractRunwasi(_ []string, exe string, id *Identity) {
	if m := runwasiEngine.FindStringSubmatch(exe); m != nil {
		id.Runtime = m[1]
	}
}

// extractQEMU reads -name, -uuid, -smp and -m (qemu-system-*(1)).
func extractQEMU(args []string, _ string, id *Identity) {
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
			// Kata names its VM sandbox-<sandbox id> (kata-containers src/runtime
			// virtcontainers/qemu.go and runtime-rs cmdline_generator.rs, commit 7c6ba40c).
			if strings.HasPrefix(n, "sandbox-") {
				id.Kind, id.Runtime = KindMicroVM, "kata"
				if id.VMID == "" {
					id.VMID = strings.TrimPrefix(n, "sandbox-")
				}
			}
		case "uuid":
			if id.VMID == "" {
				id.VMID = val
			}
		case "id":
			// Proxmox VE starts every VM with "-id <vmid>", the number its tools and
			// cgroup (qemu.slice/<vmid>.scope) use; it names the VM better than its uuid.
			id.VMID = val
		case "smp":
			// "-smp 2", "-smp cpus=2,sockets=1", "-smp sockets=1,cores=2,threads=1"
			if n, err := strconv.ParseInt(keyedOrFirst(val, "cpus"), 10, 64); err == nil {
				id.VCPUs = n
			} else {
				prod := int64(1)
				found := false
				for _, kv := range splitOpts(val) {
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

// keyedOrFirst returns key's value in a qemu-style "a=1,b=2" option list, or the first element
// when it is not keyed.
func keyedOrFirst(val, key string) string {
	parts := splitOpts(val)
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

// splitOpts splits a QEMU option list at single commas; ",," is a literal comma inside a value
// (QEMU util/qemu-option.c get_opt_value; libvirt escapes a comma in a domain name that way:
// "-name guest=a,,b,debug-threads=on" names the guest "a,b").
func splitOpts(val string) []string {
	if !strings.Contains(val, ",,") {
		return strings.Split(val, ",")
	}
	var out []string
	var cur strings.Builder
	for i := 0; i < len(val); i++ {
		if val[i] != ',' {
			cur.WriteByte(val[i])
			continue
		}
		if i+1 < len(val) && val[i+1] == ',' {
			cur.WriteByte(',')
			i++
			continue
		}
		out = append(out, cur.String())
		cur.Reset()
	}
	return append(out, cur.String())
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

// extractFirecracker reads the jailer's --id and tells a Kata-run VMM by its API socket, which
// Kata keeps under /run/vc (Go runtime, jailed or not) or /run/kata (runtime-rs)
// (kata-containers src/runtime virtcontainers/fc.go and runtime-rs hypervisor/src/firecracker,
// commit 7c6ba40c).
func extractFirecracker(args []string, _ string, id *Identity) {
	id.VMID = flagValue(args, "--id")
	if sock := flagValue(args, "--api-sock"); sock != "" {
		if sid, ok := kataSandbox(sock); ok {
			id.Runtime = "kata"
			if id.VMID == "" {
				id.VMID = sid
			}
		}
	}
}

// extractFirecrackerConfig reads the VM's size from its --config-file when the VM was
// configured from one (Firecracker takes no size on its command line: through the API, the
// size is not known here). See vmmargs.ParseFirecrackerConfig for the format and its source.
func extractFirecrackerConfig(p Process, args []string, id *Identity) {
	path, err := vmmargs.FirecrackerConfigFileOf(args)
	if err != nil {
		return // not configured from a file (or no such argument Firecracker would accept)
	}
	p.ParseNamedFile(path, vmmargs.MaxFirecrackerConfig, func(data []byte) error {
		c, err := vmmargs.ParseFirecrackerConfig(data)
		if err != nil {
			return fmt.Errorf("firecracker --config-file %s: %w", path, err)
		}
		id.VCPUs, id.MemorySize = c.VCPUs, c.MemoryBytes
		return nil
	})
}

// kataSandbox finds the sandbox id in a path Kata derives from it: /run/vc/vm/<id>/...,
// /run/vc/<vmm>/<id>/root/... (the jailer's chroot), /run/kata/<id>/... and
// /run/kata/<vmm>/<id>/root/....
func kataSandbox(p string) (string, bool) {
	for _, prefix := range [...]string{"/run/vc/vm/", "/run/kata/", "/run/vc/"} {
		rest, ok := strings.CutPrefix(path.Clean(p), prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		if len(parts) >= 3 && parts[2] == "root" { // <vmm>/<id>/root/...
			return parts[1], parts[1] != ""
		}
		if len(parts) >= 2 {
			return parts[0], parts[0] != ""
		}
	}
	return "", false
}

// extractCloudHypervisor reads --cpus boot=, --memory size= and, from the API socket, the
// sandbox of a Kata-run VM. Kata passes only --api-socket <path> and configures the VM through
// the API (virtcontainers/clh.go launchClh; runtime-rs ch/utils.rs), so its size is not on the
// command line. Other launchers' socket paths say nothing reliable about the VM: no name is
// taken from them.
func extractCloudHypervisor(args []string, _ string, id *Identity) {
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
	// "--api-socket path=/x", "fd=3" or a bare path (cloud-hypervisor src/main.rs
	// parse_api_socket, commit ae44c297).
	if v := flagValue(args, "--api-socket"); v != "" && !strings.HasPrefix(v, "fd=") {
		sock := strings.TrimPrefix(keyedOrFirst(v, "path"), "path=")
		if sid, ok := kataSandbox(sock); ok {
			id.Runtime, id.VMID = "kata", sid
		}
	}
}

// extractCrosvm reads crosvm run's --cpus (a number or num-cores=), --mem (MiB, a number or
// size=) and --name (google/crosvm src/crosvm/cmdline.rs, commit f1e797a6).
func extractCrosvm(args []string, _ string, id *Identity) {
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
