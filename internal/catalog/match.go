package catalog

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
)

// Process is what matching may read about one process. Comm comes with the stat line every
// process is read for anyway; Exe and Cmdline cost a read each and are asked for only when a
// comm passed, once per process lifetime (the caller caches them).
type Process interface {
	Comm() string
	// Exe is the target of /proc/<pid>/exe, "" when unreadable (a kernel thread, another
	// user's process without CAP_SYS_PTRACE).
	Exe() string
	// Cmdline is the argument vector; false when it is empty, which right after execve means
	// "not yet" (the kernel shows the new comm before the argument area) and for a zombie
	// means never.
	Cmdline() ([]string, bool)
	// Cgroup is the identity of the process's cgroup path (see cgroupid).
	Cgroup() cgroupid.Identity
	// ParseNamedFile reads a regular file of at most max bytes that the process names on its
	// command line, as the process would open it (an absolute path inside its root,
	// <proc>/<pid>/root; a relative one beneath its working directory), and hands it to
	// parse. A failure to read or parse it is counted by the implementation, as its other
	// reads are; matching goes on without what the file would have said.
	ParseNamedFile(path string, max int, parse func([]byte) error)
}

// Result is the outcome of matching one process.
type Result uint8

const (
	// NoMatch: no runtime of the catalog runs this process.
	NoMatch Result = iota
	// Matched: an entry matched; see Match's other results.
	Matched
	// Retry: a rule needs the command line, which is not there yet; match again later.
	Retry
)

// Role tells what a matched process is to its instance.
type Role uint8

const (
	// RoleWorkload processes run the instance (a Wasm engine, a VMM, a sandbox kernel): each
	// makes or joins an instance.
	RoleWorkload Role = iota
	// RoleHelper processes serve instances without running one (a runwasi or Kata shim, a
	// conmon): they belong to an instance only when they sit in its cgroup, and make none.
	RoleHelper
)

// Entry is one runtime the catalog knows.
type Entry struct {
	// Name is the runtime.name components report (wasmtime, qemu, firecracker...).
	Name string
	// Kind is the isolation kind of the instances it runs.
	Kind string
	// VMM names the virtual machine monitor of VM kinds (qemu, firecracker, cloud_hypervisor).
	VMM  string
	Role Role
	// Origin says where the rule comes from (an upstream file), for the catalog's table and
	// its tests.
	Origin string

	comm, exe, cmdline *regexp.Regexp
	// container requires the process to sit in a container's cgroup (runwasi's container init,
	// crun's in-process Wasm handlers: outside a container the same binary is something else).
	container bool
	// subcommand, when set, is checked on the arguments: only the instance-running commands
	// match (wasmtime run/serve, not compile).
	subcommand func(args []string) bool
	// extract derives identity from the arguments and exe.
	extract func(args []string, exe string, id *Identity)
	// extractFiles derives identity from files the arguments name (once per process, as
	// matching is), after extract.
	extractFiles func(p Process, args []string, id *Identity)
	// attrs are user-defined attribute extractions on the joined command line.
	attrs map[string]*regexp.Regexp
	// user marks an entry from configuration.
	user bool
}

// User reports whether the entry comes from configuration.
func (e *Entry) User() bool { return e.user }

func (e *Entry) needsCmdline() bool {
	return e.cmdline != nil || e.extract != nil || e.extractFiles != nil || e.subcommand != nil || len(e.attrs) > 0
}

// Catalog is an ordered list of entries: configured ones first, then the built-in ones.
type Catalog struct{ entries []*Entry }

// New returns the built-in catalog preceded by the user's matchers, which must have passed
// Validate.
func New(user []Matcher) *Catalog {
	c := &Catalog{}
	for _, m := range user {
		c.entries = append(c.entries, m.compile())
	}
	c.entries = append(c.entries, builtin...)
	return c
}

// Entries lists the catalog in matching order.
func (c *Catalog) Entries() []*Entry { return c.entries }

// Match finds the first entry that runs p and the identity p's names and arguments give.
func (c *Catalog) Match(p Process) (*Entry, Identity, Result) {
	comm := p.Comm()
	for _, e := range c.entries {
		if e.comm != nil && !e.comm.MatchString(comm) {
			continue
		}
		if e.exe != nil && !e.exe.MatchString(p.Exe()) {
			continue
		}
		if e.container && p.Cgroup().ContainerID == "" {
			continue
		}
		var args []string
		if e.needsCmdline() {
			var ok bool
			if args, ok = p.Cmdline(); !ok {
				return nil, Identity{}, Retry
			}
		}
		if e.cmdline != nil && !e.cmdline.MatchString(strings.Join(args, " ")) {
			continue
		}
		if e.subcommand != nil && !e.subcommand(args) {
			continue
		}
		id := Identity{Runtime: e.Name, Kind: e.Kind, VMM: e.VMM}
		if e.extract != nil {
			e.extract(args, p.Exe(), &id)
		}
		if e.extractFiles != nil {
			e.extractFiles(p, args, &id)
		}
		if len(e.attrs) > 0 {
			e.applyUserAttrs(strings.Join(args, " "), &id)
		}
		return e, id, Matched
	}
	return nil, Identity{}, NoMatch
}

// applyUserAttrs runs the user's extraction expressions on the joined command line.
func (e *Entry) applyUserAttrs(joined string, id *Identity) {
	for k, re := range e.attrs {
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
