// Package qmp asks a QEMU monitor (QMP, docs/interop/qmp-spec.rst) for the KVM statistics of
// each vCPU and the counters of each virtual disk (query-blockstats): query-stats (QEMU 7.1 and later) relays KVM's binary statistics, which need no
// debugfs and stay readable under kernel lockdown, and query-cpus-fast maps each vCPU's QOM
// path to its index and thread. A monitor serves one client at a time and is reached through
// a socket its VMM, possibly taken over by its guest, writes to: every line is bounded, the
// whole exchange has one deadline, and events in between are skipped up to a limit.
package qmp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/unixapi"
)

// DefaultMaxLineBytes bounds one line of the monitor when Client.MaxLineBytes is 0 (a
// query-stats answer of 64 vCPUs for the names asked is about 10 KiB).
const DefaultMaxLineBytes = 1 << 20

// maxEvents bounds the events skipped while waiting for one answer.
const maxEvents = 256

// ErrLineTooLong is returned for a line past the limit: the exchange is abandoned.
var ErrLineTooLong = errors.New("QMP line past the configured limit")

// CPU is one entry of query-cpus-fast (qapi/machine.json CpuInfoFast).
type CPU struct {
	Index    int    `json:"cpu-index"`
	QOMPath  string `json:"qom-path"`
	ThreadID int    `json:"thread-id"`
}

// VCPU is one vCPU's KVM statistics.
type VCPU struct {
	CPU
	Stats vmstats.KVMStats
}

// Client asks one monitor socket.
type Client struct {
	Socket       string
	Timeout      time.Duration // the whole exchange; 0: 2 s
	MaxLineBytes int           // 0: DefaultMaxLineBytes
	// Dial, when set, connects inside the VMM's root (vmmargs.Root.DialUnix).
	Dial func(ctx context.Context) (net.Conn, error)
	// record, when set, receives every line read (the capture of the live test).
	record func(line []byte)
}

// Stats is what one exchange with the monitor gives.
type Stats struct {
	// VCPUs are the vCPUs sorted by index with their KVM statistics; nil with NotKVM.
	VCPUs []VCPU
	// NotKVM is set when there are no KVM statistics to report: the VM runs under TCG, or
	// QEMU is older than 7.1 (no query-stats).
	NotKVM bool
	// Blocks are the virtual disks.
	Blocks []Block
	// Status is the VM's RunState (query-status).
	Status string
	// CPUs are the vCPUs present now (query-cpus-fast: hot-plugged ones included).
	CPUs int
	// MemoryBytes is the guest memory now: base-memory plus plugged-memory.
	MemoryBytes uint64
	// BalloonBytes is query-balloon's actual (the memory less the balloon); HasBalloon is
	// false without a balloon device.
	BalloonBytes uint64
	HasBalloon   bool
}

// Query negotiates capabilities and asks query-status, query-memory-size-summary,
// query-cpus-fast, query-stats, query-blockstats and query-balloon.
func (c Client) Query(ctx context.Context) (Stats, error) {
	ctx, cancel := unixapi.WithTimeout(ctx, c.Timeout)
	defer cancel()
	conn, err := unixapi.Dial(ctx, c.Socket, c.Dial)
	if err != nil {
		return Stats{}, fmt.Errorf("QMP socket %s: %w", c.Socket, err)
	}
	defer conn.Close()
	max := c.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	s := session{conn: conn, r: bufio.NewReaderSize(conn, 4096), max: max, record: c.record}
	greeting, err := s.line()
	if err != nil {
		return Stats{}, c.fail("greeting", err)
	}
	version, err := ParseGreeting(greeting)
	if err != nil {
		return Stats{}, c.fail("greeting", err)
	}
	if _, err := s.execute("qmp_capabilities", nil); err != nil {
		return Stats{}, c.fail("qmp_capabilities", err)
	}
	var out Stats
	status, err := s.execute("query-status", nil)
	if err == nil {
		out.Status, err = ParseStatus(status)
	}
	if err != nil {
		return Stats{}, c.fail("query-status", err)
	}
	mem, err := s.execute("query-memory-size-summary", nil)
	if err == nil {
		var base, plugged uint64
		base, plugged, err = ParseMemorySize(mem)
		out.MemoryBytes = base + plugged
	}
	if err != nil {
		return Stats{}, c.fail("query-memory-size-summary", err)
	}
	cpus, err := s.execute("query-cpus-fast", nil)
	if err != nil {
		return Stats{}, c.fail("query-cpus-fast", err)
	}
	n, err := countCPUs(cpus)
	if err != nil {
		return Stats{}, c.fail("query-cpus-fast", err)
	}
	out.CPUs = n
	if !version.HasQueryStats() {
		out.NotKVM = true // QEMU before 7.1 relays no KVM statistics; the rest stands
	} else {
		stats, err := s.execute("query-stats", map[string]any{
			"target": "vcpu", "providers": []any{map[string]any{"provider": "kvm", "names": vmstats.KVMStatNames()}},
		})
		if err != nil {
			return Stats{}, c.fail("query-stats", err)
		}
		out.VCPUs, err = ParseVCPUStats(cpus, stats)
		if errors.Is(err, ErrNotKVM) {
			out.VCPUs, out.NotKVM, err = nil, true, nil
		}
		if err != nil {
			return Stats{}, c.fail("query-stats", err)
		}
	}
	blocks, err := s.execute("query-blockstats", nil)
	if err != nil {
		return Stats{}, c.fail("query-blockstats", err)
	}
	if out.Blocks, err = ParseBlockStats(blocks); err != nil {
		return Stats{}, c.fail("query-blockstats", err)
	}
	balloon, err := s.execute("query-balloon", nil)
	var cmdErr *CommandError
	switch {
	case errors.As(err, &cmdErr) && cmdErr.Class == "DeviceNotActive":
		// No balloon device: nothing to report.
	case err != nil:
		return Stats{}, c.fail("query-balloon", err)
	default:
		if out.BalloonBytes, err = ParseBalloon(balloon); err != nil {
			return Stats{}, c.fail("query-balloon", err)
		}
		out.HasBalloon = true
	}
	return out, nil
}

func (c Client) fail(step string, err error) error {
	return fmt.Errorf("QMP socket %s, %s: %w", c.Socket, step, err)
}

type session struct {
	conn   net.Conn
	r      *bufio.Reader
	max    int
	id     int
	buf    []byte
	record func([]byte)
}

// line reads one line of at most max bytes.
func (s *session) line() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.buf)+len(chunk) > s.max {
			return nil, ErrLineTooLong
		}
		s.buf = append(s.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		line := bytes.TrimSpace(s.buf)
		if s.record != nil {
			s.record(line)
		}
		return line, nil
	}
}

// execute sends a command with an id and returns the "return" member of its answer (the
// whole line, to be parsed by the caller), skipping events.
func (s *session) execute(cmd string, args any) ([]byte, error) {
	s.id++
	req := map[string]any{"execute": cmd, "id": s.id}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := s.conn.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	for range maxEvents {
		line, err := s.line()
		if err != nil {
			return nil, err
		}
		ret, isEvent, err := parseAnswer(line, s.id)
		if isEvent {
			continue
		}
		return ret, err
	}
	return nil, fmt.Errorf("more than %d events before the answer", maxEvents)
}
