//go:build cgo && linux

package wasmtimehost

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Event is one JSON line the host process writes on stdout.
type Event struct {
	Event string `json:"event"` // "started", "ready", "report"
	PID   int    `json:"pid,omitempty"`
	// started
	Index int     `json:"index"`
	Guest string  `json:"guest,omitempty"`
	Base  uint64  `json:"base,omitempty"`
	TID   int     `json:"tid,omitempty"`
	Addr  string  `json:"addr,omitempty"` // connspam's listener
	Dir   string  `json:"dir,omitempty"`  // filespam's /data
	Span  uint64  `json:"span,omitempty"` // bytes from Base the memory may grow into
	Stats []Stats `json:"instances,omitempty"`
}

// Stats is the host's own view of one instance, for tests to compare with what is read from
// outside: Present counts the pages of [Base, Base+Span) that /proc/self/pagemap shows mapped
// in the page table (what smaps counts as Rss), Touched the bytes the guest says it touched
// (memgrow's last "held" line).
type Stats struct {
	Index   int    `json:"index"`
	Present uint64 `json:"present"`
	Touched uint64 `json:"touched"`
}

type instanceFlags []string

func (f *instanceFlags) String() string     { return strings.Join(*f, " ") }
func (f *instanceFlags) Set(v string) error { *f = append(*f, v); return nil }

// Main runs a host process: it starts the instances named by -i flags
// (guest=path.wasm[,arg...]), prints one "started" line per instance and a "ready" line, then
// answers "report" lines on stdin with a "report" line, until stdin closes or says "stop".
func Main(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("wasmtimehost", flag.ContinueOnError)
	var specs instanceFlags
	fs.Var(&specs, "i", "instance: guest=path.wasm[,arg...] (repeatable)")
	work := fs.String("work", os.TempDir(), "directory for guest stdout files and filespam's directories")
	cache := fs.String("cache", "", "directory for compiled modules")
	reservation := fs.Uint64("memory-reservation", 0, "Config::memory_reservation in bytes (0: default)")
	guard := fs.Uint64("memory-guard-size", 0, "Config::memory_guard_size in bytes (0: default)")
	pooling := fs.Uint("pooling", 0, "use the pooling allocator with this many memory slots")
	poolMax := fs.Uint64("pooling-max-memory-size", 0, "pooling max_memory_size in bytes (0: default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := Options{MemoryReservation: *reservation, MemoryGuardSize: *guard,
		PoolingMemories: uint32(*pooling), PoolingMaxMemorySize: *poolMax, CacheDir: *cache}
	h, err := New(opts)
	if err != nil {
		return err
	}
	span := uint64(4 << 30)
	if opts.MemoryReservation != 0 {
		span = opts.MemoryReservation
	}
	if opts.PoolingMemories != 0 && opts.PoolingMaxMemorySize != 0 {
		span = opts.PoolingMaxMemorySize
	}
	enc := json.NewEncoder(stdout)
	for i, s := range specs {
		guest, rest, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-i %q: want guest=path.wasm[,arg...]", s)
		}
		parts := strings.Split(rest, ",")
		spec := Spec{Guest: guest, Wasm: parts[0], Args: parts[1:],
			Stdout: filepath.Join(*work, fmt.Sprintf("stdout-%d", i))}
		ev := Event{Event: "started", Index: i, Guest: guest, Span: span}
		switch guest {
		case "filespam":
			spec.DataDir = filepath.Join(*work, fmt.Sprintf("data-%d", i))
			if err := os.MkdirAll(spec.DataDir, 0o755); err != nil {
				return err
			}
			ev.Dir = spec.DataDir
		case "connspam":
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				return err
			}
			spec.Listener = ln
			ev.Addr = ln.Addr().String()
		}
		inst, err := h.Start(spec)
		if err != nil {
			return err
		}
		ev.Base, ev.TID = uint64(inst.Base), inst.TID
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	if err := enc.Encode(Event{Event: "ready", PID: os.Getpid()}); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case "report":
			ev := Event{Event: "report", PID: os.Getpid()}
			for _, inst := range h.Instances() {
				p, err := presentBytes(inst.Base, span)
				if err != nil {
					return err
				}
				ev.Stats = append(ev.Stats, Stats{Index: inst.Index, Present: p, Touched: touched(inst.Spec.Stdout)})
			}
			if err := enc.Encode(ev); err != nil {
				return err
			}
		case "stop":
			h.Stop()
			return nil
		}
	}
	h.Stop()
	return sc.Err()
}

// presentBytes counts the pages of [base, base+n) present in this process's page table
// (/proc/self/pagemap bit 63; the kernel's Documentation/admin-guide/mm/pagemap.rst). It is
// a page-table walk of its own, independent of smaps.
func presentBytes(base uintptr, n uint64) (uint64, error) {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	page := uint64(os.Getpagesize())
	buf := make([]byte, 8*4096)
	var present uint64
	for off := uint64(0); off < n; {
		chunk := min(uint64(len(buf)/8), (n-off)/page)
		if chunk == 0 {
			break
		}
		b := buf[:chunk*8]
		if _, err := f.ReadAt(b, int64((uint64(base)+off)/page*8)); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := 0; i < len(b); i += 8 {
			if binary.LittleEndian.Uint64(b[i:])&(1<<63) != 0 {
				present += page
			}
		}
		off += chunk * page
	}
	return present, nil
}

func touched(stdoutPath string) uint64 {
	b, err := os.ReadFile(stdoutPath)
	if err != nil {
		return 0
	}
	var last uint64
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("held ")); ok {
			if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				last = n
			}
		}
	}
	return last
}
