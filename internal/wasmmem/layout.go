package wasmmem

// Layout is the address-space shape an engine gives each linear memory on a 64-bit Linux host:
// GuardBefore bytes of PROT_NONE below the memory's base, then Reservation bytes the memory may
// grow into (its committed, read-write part starts at the base and grows upward), then
// GuardAfter bytes of PROT_NONE. Every engine below reserves with one PROT_NONE mmap and
// commits by changing protection of the low part, so in /proc/<pid>/smaps a live memory is
// one or more read-write private mappings at the base, with PROT_NONE on both sides.
//
// Neighbouring PROT_NONE regions of two memories are anonymous mappings with the same flags,
// so the kernel merges them into one VMA (mm/vma.c, vma_merge): one memory's tail and the
// next memory's pre-guard show as a single "---p" mapping. The classifier therefore anchors
// on the read-write parts and only checks that enough PROT_NONE surrounds each.
type Layout struct {
	Engine      string
	GuardBefore uint64
	Reservation uint64
	GuardAfter  uint64
}

// Span is the address space one memory holds: guards and reservation.
func (l Layout) Span() uint64 { return l.GuardBefore + l.Reservation + l.GuardAfter }

// Layouts of the engines' defaults on 64-bit hosts (x86_64, aarch64, riscv64, s390x).
var (
	// Wasmtime, on-demand allocator (the default; wasmtime CLI, Spin, wasmCloud,
	// runwasi-wasmtime embed the same crate). bytecodealliance/wasmtime at v39.0.1
	// (0163804870a2149c113a31a58da4635f79fc25ec):
	//   crates/environ/src/tunables.rs Tunables::default_u64: memory_reservation 1<<32,
	//     memory_guard_size 32<<20, memory_reservation_for_growth 2<<30; default_miri:
	//     guard_before_linear_memory true, memory_init_cow true.
	//   crates/wasmtime/src/runtime/vm/memory/mmap.rs MmapMemory::new: one mapping of
	//     pre_guard + memory_reservation + offset_guard, made by Mmap::accessible_reserved
	//     (sys/unix/mmap.rs: mmap_anonymous PROT_NONE, MAP_PRIVATE|MAP_NORESERVE), then
	//     make_accessible(pre_guard, minimum) = mprotect READ|WRITE; grow_to mprotects the
	//     next pages while they fit, else (a memory whose minimum exceeds the reservation, e.g.
	//     memory64 past 4 GiB) maps a new minimum + reservation_for_growth region and copies.
	//   crates/wasmtime/src/runtime/vm/cow.rs + sys/unix/vm.rs: with memory_init_cow the
	//     module's data segments are mapped MAP_FIXED from a memfd named "wasm-memory-image"
	//     (or the .cwasm file) over the start of the read-write part: smaps shows a separate
	//     "rw-p /memfd:wasm-memory-image (deleted)" VMA inside the committed run.
	Wasmtime = Layout{Engine: "wasmtime", GuardBefore: 32 << 20, Reservation: 4 << 30, GuardAfter: 32 << 20}

	// WasmEdge. WasmEdge/WasmEdge lib/system/allocator.cpp
	// (d516c5d663de9cc275a284ffe4585526d164cca2): Allocator::allocate mmaps k12G
	// (0x300000000) PROT_NONE MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE and returns Reserved +
	// k4G; Allocator::resize maps each new page range MAP_FIXED READ|WRITE (adjacent
	// anonymous read-write VMAs merge into one); release munmaps Pointer - k4G, k12G.
	WasmEdge = Layout{Engine: "wasmedge", GuardBefore: 4 << 30, Reservation: 4 << 30, GuardAfter: 4 << 30}

	// Wasmer (sys engine, BaseTunables). wasmerio/wasmer
	// lib/compiler/src/engine/tunables.rs (1dd393776334ef8d93d9911918fa87746756f23f)
	// BaseTunables::for_target on 64-bit: static_memory_bound 0x1_0000 pages (4 GiB),
	// static_memory_offset_guard_size 0x8000_0000 (2 GiB); a memory whose maximum exceeds the
	// bound is Dynamic with a 64 KiB guard. lib/vm/src/memory.rs
	// (0675310440af9bcc94f212da776422112556e6ba) VMOwnedMemory::new_internal reserves bound +
	// guard with no guard before; lib/vm/src/mmap.rs
	// (0624c058f2d9edce89f08c84a5c58e29a034e069) Mmap::accessible_reserved mmaps PROT_NONE
	// MAP_PRIVATE|MAP_ANON and make_accessible region::protect(READ_WRITE)s the low part.
	// Memories without a declared maximum (wasi-libc and Go guests declare none) take the
	// Static style only because Pages::max_value() equals the bound.
	Wasmer = Layout{Engine: "wasmer", GuardBefore: 0, Reservation: 4 << 30, GuardAfter: 2 << 30}
)

// What the layouts cannot tell apart, and what the figures then mean:
//
//   - Wasmtime's pooling allocator (crates/wasmtime/src/runtime/vm/instance/allocator/pooling/
//     memory_pool.rs at v39.0.1) maps one slab: pre_slab_guard, then total_memories slots of
//     slot_bytes = max(memory_reservation, max_memory_size) + memory_guard_size (fewer with
//     MPK stripes), then post_slab_guard. With the defaults a slot has exactly the on-demand
//     shape seen from its base (4 GiB + 32 MiB of reservation and guard, the previous slot's
//     tail as guard before), so slots are classified as memories. A slot returned to the pool
//     keeps its read-write part (cow.rs MemoryImageSlot: protections are reset only when the
//     slot is next instantiated) and up to linear_memory_keep_resident bytes resident: a warm,
//     unused slot counts as a live memory whose resident bytes are what the pool kept.
//     Slots used with MPK stripes are smaller than the layout and are not found.
//   - memory64: a 64-bit memory up to the reservation looks like a 32-bit one (same tunables);
//     one whose minimum exceeds the reservation gets minimum + memory_reservation_for_growth
//     and moves on growth: it does not match the layout and is not counted.
//   - Custom memory_reservation / memory_guard_size / guard_before_linear_memory (Spin and
//     wasmCloud keep wasmtime's defaults; an embedder may not): memories of another shape
//     are found only with a Layout that says so. A reservation smaller than what is committed
//     is impossible, a larger one with a smaller guard makes every figure still per memory.
//   - Wasmtime GC heaps (the GC proposal) use the same tunables (Tunables::gc_heap_memory_type)
//     and are counted as linear memories.
//   - A memory that has committed nothing (zero pages) is PROT_NONE only and merges with its
//     neighbours; it is counted only when the merged PROT_NONE region holds exactly whole
//     spans beyond what the memories beside it claim.
//   - Memories of separate stores or engines in one process are all counted: the index is per
//     process, not per store.
//
// wazero (the engine the project's own Go hosts use) allocates linear memory with
// make([]byte) in the Go heap (tetratelabs/wazero v1.12.0 internal/wasm/memory.go
// NewMemoryInstance; an embedder may pass experimental.MemoryAllocator): its memories are
// indistinguishable from the Go heap, so wazero hosts get process-level figures only.
