//go:build cgo && linux

package wasmtimehost

/*
#include <stdint.h>
#include <stdbool.h>
// Declared here rather than included: the header lives in the wasmtime-go module, whose cgo
// flags link the static library these symbols come from. wasmtime-go v39 does not wrap them.
typedef struct wasm_config_t wasm_config_t;
typedef struct wasmtime_pooling_allocation_config_t wasmtime_pooling_allocation_config_t;
extern void wasmtime_config_memory_reservation_set(wasm_config_t*, uint64_t);
extern void wasmtime_config_memory_guard_size_set(wasm_config_t*, uint64_t);
extern void wasmtime_config_memory_reservation_for_growth_set(wasm_config_t*, uint64_t);
extern wasmtime_pooling_allocation_config_t* wasmtime_pooling_allocation_config_new(void);
extern void wasmtime_pooling_allocation_config_delete(wasmtime_pooling_allocation_config_t*);
extern void wasmtime_pooling_allocation_config_total_memories_set(wasmtime_pooling_allocation_config_t*, uint32_t);
extern void wasmtime_pooling_allocation_config_max_memory_size_set(wasmtime_pooling_allocation_config_t*, size_t);
extern void wasmtime_pooling_allocation_strategy_set(wasm_config_t*, const wasmtime_pooling_allocation_config_t*);
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// Options are the engine settings a host is built with. Zero values keep wasmtime's defaults
// (on-demand allocator; on 64-bit hosts a 4 GiB reservation and 32 MiB guards before and after
// each linear memory).
type Options struct {
	// MemoryReservation and MemoryGuardSize set Config::memory_reservation and
	// Config::memory_guard_size (bytes) when non-zero.
	MemoryReservation uint64
	MemoryGuardSize   uint64
	// PoolingMemories, when non-zero, switches to the pooling allocator with that many memory
	// slots (total_memories) of PoolingMaxMemorySize bytes each (default 4 GiB).
	PoolingMemories      uint32
	PoolingMaxMemorySize uint64
	// CacheDir keeps compiled modules between runs (Module.Serialize), keyed by the Wasm
	// file's hash and the options.
	CacheDir string
}

// Host owns one engine and the instances started on it.
type Host struct {
	opts    Options
	engine  *wasmtime.Engine
	linker  *wasmtime.Linker // WASI preview 1 as wasmtime implements it
	sockets *wasmtime.Linker // the same, with a pre-opened TCP listener on descriptor 3

	mu        sync.Mutex
	modules   map[string]*wasmtime.Module
	instances []*Instance
}

// Spec says what one instance runs.
type Spec struct {
	Guest   string   // a name, e.g. "memgrow"
	Wasm    string   // path of the module
	Args    []string // argv[1:]
	DataDir string   // pre-opened as /data when non-empty
	Stdout  string   // file receiving the guest's stdout (discarded when empty)
	// Listener is handed to the guest as its descriptor 3 (connspam): wasmtime's C API has no
	// pre-opened sockets, so the host serves sock_accept on it (see sockets.go).
	Listener *net.TCPListener
}

// Instance is one running guest.
type Instance struct {
	Index int
	Spec  Spec
	// Base is the address of the instance's linear memory ("memory" export). With a 4 GiB
	// reservation it never moves, since a 32-bit memory cannot outgrow it.
	Base uintptr
	// TID is the thread the instance runs on (locked for its whole life), so tests can read
	// its CPU time from /proc/<pid>/task/<tid>/stat.
	TID int
	// Done receives the error _start returned (an epoch interrupt after Stop).
	Done chan error
}

// New builds an engine with opts.
func New(opts Options) (*Host, error) {
	cfg := wasmtime.NewConfig()
	cfg.SetEpochInterruption(true)
	// wasmtime-go's Config holds only the C pointer (config.go: `type Config struct { _ptr
	// *C.wasm_config_t }`); the settings below have no Go wrapper at v39.
	raw := *(**C.wasm_config_t)(unsafe.Pointer(cfg))
	if opts.MemoryReservation != 0 {
		C.wasmtime_config_memory_reservation_set(raw, C.uint64_t(opts.MemoryReservation))
	}
	if opts.MemoryGuardSize != 0 {
		C.wasmtime_config_memory_guard_size_set(raw, C.uint64_t(opts.MemoryGuardSize))
	}
	if opts.PoolingMemories != 0 {
		p := C.wasmtime_pooling_allocation_config_new()
		C.wasmtime_pooling_allocation_config_total_memories_set(p, C.uint32_t(opts.PoolingMemories))
		if opts.PoolingMaxMemorySize != 0 {
			C.wasmtime_pooling_allocation_config_max_memory_size_set(p, C.size_t(opts.PoolingMaxMemorySize))
		}
		C.wasmtime_pooling_allocation_strategy_set(raw, p)
		C.wasmtime_pooling_allocation_config_delete(p)
	}
	engine := wasmtime.NewEngineWithConfig(cfg)
	h := &Host{opts: opts, engine: engine, modules: map[string]*wasmtime.Module{}}
	h.linker = wasmtime.NewLinker(engine)
	if err := h.linker.DefineWasi(); err != nil {
		return nil, err
	}
	s, err := newSocketLinker(engine)
	if err != nil {
		return nil, err
	}
	h.sockets = s
	return h, nil
}

func (h *Host) module(path string) (*wasmtime.Module, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.modules[path]; ok {
		return m, nil
	}
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cache string
	if h.opts.CacheDir != "" {
		sum := sha256.Sum256(append(code, fmt.Sprintf("%+v", h.opts)...))
		cache = filepath.Join(h.opts.CacheDir, "wasmtime-"+hex.EncodeToString(sum[:8])+".cwasm")
		if b, err := os.ReadFile(cache); err == nil {
			if m, err := wasmtime.NewModuleDeserialize(h.engine, b); err == nil {
				h.modules[path] = m
				return m, nil
			}
		}
	}
	m, err := wasmtime.NewModule(h.engine, code)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", path, err)
	}
	if cache != "" {
		if b, err := m.Serialize(); err == nil && os.MkdirAll(h.opts.CacheDir, 0o755) == nil {
			tmp := cache + fmt.Sprintf(".%d.tmp", os.Getpid())
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, cache)
			}
		}
	}
	h.modules[path] = m
	return m, nil
}

// Start instantiates spec in a store of its own and runs its _start on a locked thread. It
// returns once the instance exists (its memory base is known) and its code is running.
func (h *Host) Start(spec Spec) (*Instance, error) {
	m, err := h.module(spec.Wasm)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	inst := &Instance{Index: len(h.instances), Spec: spec, Done: make(chan error, 1)}
	h.instances = append(h.instances, inst)
	h.mu.Unlock()

	ready := make(chan error, 1)
	go func() {
		// The store lives and dies on this thread, and the guest never yields it.
		runtime.LockOSThread()
		inst.TID = syscall.Gettid()
		err := h.run(inst, m, ready)
		inst.Done <- err
	}()
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("instance %d (%s): %w", inst.Index, spec.Guest, err)
	}
	return inst, nil
}

func (h *Host) run(inst *Instance, m *wasmtime.Module, ready chan<- error) error {
	spec := inst.Spec
	var sock *socketState
	if spec.Listener != nil {
		sock = newSocketState(spec.Listener)
		defer sock.close()
	}
	store := wasmtime.NewStoreWithData(h.engine, sock)
	defer store.Close()
	store.SetEpochDeadline(1)
	wasi := wasmtime.NewWasiConfig()
	wasi.SetArgv(append([]string{spec.Guest}, spec.Args...))
	wasi.InheritStderr()
	if spec.Stdout != "" {
		if err := wasi.SetStdoutFile(spec.Stdout); err != nil {
			ready <- fmt.Errorf("stdout %s: %w", spec.Stdout, err)
			return err
		}
	}
	if spec.DataDir != "" {
		if err := wasi.PreopenDir(spec.DataDir, "/data", wasmtime.DIR_READ|wasmtime.DIR_WRITE, wasmtime.FILE_READ|wasmtime.FILE_WRITE); err != nil {
			ready <- fmt.Errorf("preopen %s: %w", spec.DataDir, err)
			return err
		}
	}
	store.SetWasi(wasi)
	linker := h.linker
	if sock != nil {
		linker = h.sockets
	}
	instance, err := linker.Instantiate(store, m)
	if err != nil {
		ready <- err
		return err
	}
	mem := instance.GetExport(store, "memory")
	start := instance.GetFunc(store, "_start")
	if mem == nil || mem.Memory() == nil || start == nil {
		err := errors.New("module exports no memory or no _start")
		ready <- err
		return err
	}
	inst.Base = uintptr(mem.Memory().Data(store))
	ready <- nil
	_, err = start.Call(store)
	return err
}

// Instances lists the instances started so far.
func (h *Host) Instances() []*Instance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Instance(nil), h.instances...)
}

// Stop interrupts every running guest at its next epoch check. Guests blocked in a host call
// (a WASI sleep) stay there: end the process to be sure.
func (h *Host) Stop() { h.engine.IncrementEpoch() }
