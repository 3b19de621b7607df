package wasmruntimereceiver

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/wasmmem"
)

// LinearMemoryConfig is the `linear_memory:` section: per-instance linear memory of Wasm
// runtime processes, read from /proc/<pid>/smaps (see documentation.md).
type LinearMemoryConfig struct {
	// Enabled reads the mappings of processes the catalog (or a runtimes: matcher) classified
	// as a Wasm runtime whose engine has a known layout. Processes of other kinds are never read.
	Enabled bool `mapstructure:"enabled"`
	// Every reads the mappings at every Every-th collection (1: each one). smaps costs the
	// kernel a page-table walk per mapping, so it is read less often than the cheap files.
	Every int `mapstructure:"every"`
	// MaxMappings bounds the mappings examined per process; the rest are counted in
	// wasm_runtime.linear_memory.truncated. 0 means 16384.
	MaxMappings int `mapstructure:"max_mappings"`
	// Runtimes gives the engine, and optionally a non-default layout, of a runtime name (a
	// runtimes: matcher's name or a catalog name), overriding the built-in mapping.
	Runtimes map[string]EngineLayout `mapstructure:"runtimes"`

	_ struct{}
}

// EngineLayout names the engine a runtime embeds and, where its embedder changed them, the
// sizes of its linear memory reservations.
type EngineLayout struct {
	// Engine is wasmtime, wasmedge, wasmer or none (do not read this runtime's mappings).
	Engine string `mapstructure:"engine"`
	// Reservation is the address space reserved per memory in bytes (wasmtime
	// memory_reservation); 0 keeps the engine's default.
	Reservation uint64 `mapstructure:"reservation"`
	// GuardBefore and GuardAfter are the PROT_NONE bytes below and above the reservation
	// (wasmtime memory_guard_size sets both; guard_before_linear_memory: false makes the first
	// 0). Unset keeps the engine's default.
	GuardBefore *uint64 `mapstructure:"guard_before"`
	GuardAfter  *uint64 `mapstructure:"guard_after"`
}

// defaultLinearMemoryEvery reads smaps every third collection: 30 s at the default 10 s
// interval, a few milliseconds of parsing per thousand memories.
const defaultLinearMemoryEvery = 3

func defaultLinearMemoryConfig() LinearMemoryConfig {
	return LinearMemoryConfig{Enabled: true, Every: defaultLinearMemoryEvery}
}

// engineLayouts are the engines whose linear memories the receiver can tell apart.
var engineLayouts = map[string]wasmmem.Layout{
	"wasmtime": wasmmem.Wasmtime,
	"wasmedge": wasmmem.WasmEdge,
	"wasmer":   wasmmem.Wasmer,
}

// builtinEngines maps catalog runtime names (internal/catalog) to the engine they embed; a
// runwasi shim or crun's Wasm handler is reported under its engine's name already.
//   - wasmtime: the CLI; runwasi's containerd-shim-wasmtime-v1; crun's libwasmtime handler.
//   - spin: spin-core enables wasmtime's pooling allocator with max_memory_size 4 GiB and
//     wasmtime's default memory_reservation and guard (spinframework/spin
//     crates/core/src/lib.rs, commit 94a8fc8a7804ec2519bb8d12df70ab77ad2e4f60): each slot has
//     the on-demand shape (internal/wasmmem layout.go).
//   - wasmcloud: wash-runtime's new_pooling_config keeps PoolingAllocationConfig defaults unless
//     WASMTIME_POOLING_* variables say otherwise, and never sets memory_reservation or
//     memory_guard_size (wasmCloud/wasmCloud crates/wash-runtime/src/engine/mod.rs, commit
//     7cd553cc57cfb5a64717d76b11ddeea2cd8c0a8b).
//   - wasmedge, wasmer: their CLIs and the runwasi / crun handlers embedding them.
//
// wazero (a library: hosts are runtimes: matchers) keeps linear memory in the Go heap, and
// WAMR, slight, lunatic and wws have no modelled layout: none of them is read.
var builtinEngines = map[string]string{
	"wasmtime":  "wasmtime",
	"spin":      "wasmtime",
	"wasmcloud": "wasmtime",
	"wasmedge":  "wasmedge",
	"wasmer":    "wasmer",
}

// layoutFor returns the layout of a runtime process: the configured one of its matched entry's
// name or of the instance's runtime, else the built-in one. ok is false for runtimes whose
// memories cannot be told apart.
func (c *LinearMemoryConfig) layoutFor(entry, runtime string) (wasmmem.Layout, bool) {
	for _, name := range [...]string{entry, runtime} {
		if el, ok := c.Runtimes[name]; ok {
			return el.layout()
		}
	}
	for _, name := range [...]string{entry, runtime} {
		if eng, ok := builtinEngines[name]; ok {
			return engineLayouts[eng], true
		}
	}
	return wasmmem.Layout{}, false
}

func (el EngineLayout) layout() (wasmmem.Layout, bool) {
	l, ok := engineLayouts[el.Engine]
	if !ok {
		return wasmmem.Layout{}, false
	}
	if el.Reservation != 0 {
		l.Reservation = el.Reservation
	}
	if el.GuardBefore != nil {
		l.GuardBefore = *el.GuardBefore
	}
	if el.GuardAfter != nil {
		l.GuardAfter = *el.GuardAfter
	}
	return l, true
}

// maxLinearMemoryEvery keeps a typo (every: 60000) from switching the reads off silently.
const maxLinearMemoryEvery = 10000

// validate checks the section; every error names the field and the fix.
func (c *LinearMemoryConfig) validate() []error {
	var errs []error
	if c.Every < 1 || c.Every > maxLinearMemoryEvery {
		errs = append(errs, fmt.Errorf("linear_memory.every: %d must be between 1 (read at every collection) and %d (e.g. every: %d); set linear_memory.enabled: false to turn the reads off", c.Every, maxLinearMemoryEvery, defaultLinearMemoryEvery))
	}
	if c.MaxMappings < 0 || c.MaxMappings > 1<<20 {
		errs = append(errs, fmt.Errorf("linear_memory.max_mappings: %d must be between 0 (the default, %d) and %d", c.MaxMappings, wasmmem.DefaultMaxVMAs, 1<<20))
	}
	engines := append(slices.Sorted(maps.Keys(engineLayouts)), "none")
	for _, name := range slices.Sorted(maps.Keys(c.Runtimes)) {
		el := c.Runtimes[name]
		f := "linear_memory.runtimes." + name
		if _, ok := engineLayouts[el.Engine]; !ok && el.Engine != "none" {
			errs = append(errs, fmt.Errorf("%s.engine: %q is not one of %s", f, el.Engine, strings.Join(engines, ", ")))
			continue
		}
		const page = 4096
		if el.Reservation%page != 0 {
			errs = append(errs, fmt.Errorf("%s.reservation: %d is not a multiple of the %d-byte page (e.g. reservation: %d for 4 GiB)", f, el.Reservation, page, uint64(4<<30)))
		}
		for _, g := range [...]struct {
			field string
			v     *uint64
		}{{"guard_before", el.GuardBefore}, {"guard_after", el.GuardAfter}} {
			if g.v != nil && *g.v%page != 0 {
				errs = append(errs, fmt.Errorf("%s.%s: %d is not a multiple of the %d-byte page (e.g. %s: %d for wasmtime's 32 MiB)", f, g.field, *g.v, page, g.field, 32<<20))
			}
		}
		if el.Engine == "none" && (el.Reservation != 0 || el.GuardBefore != nil || el.GuardAfter != nil) {
			errs = append(errs, fmt.Errorf("%s: engine none reads nothing; remove reservation and guard sizes or name the engine", f))
		}
	}
	return errs
}
