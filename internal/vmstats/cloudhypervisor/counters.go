// Package cloudhypervisor reads the per-device counters Cloud Hypervisor serves at
// GET /api/v1/vm.counters on its API socket (--api-socket path=...).
//
// Format (cloud-hypervisor/cloud-hypervisor, commit ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4):
// vmm/src/lib.rs vm_counters serializes with serde_json a
// HashMap<device id, HashMap<counter, Wrapping<u64>>> built by DeviceManager::counters
// (vmm/src/device_manager.rs) from each virtio device's counters(): block devices
// (virtio-devices/src/block.rs) give read_bytes, write_bytes, read_ops, write_ops and
// {read,write}_latency_{min,max,avg} in microseconds; net devices (virtio-devices/src/net.rs)
// rx_bytes, rx_frames, tx_bytes, tx_frames. Latencies start at u64::MAX and keep it until the
// first request of their kind completes; the average is stored scaled by LATENCY_SCALE
// (10000) and divided on output, so its sentinel reads u64::MAX / 10000.
package cloudhypervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/unixapi"
)

// latencyScale is LATENCY_SCALE of virtio-devices/src/block.rs.
const latencyScale = 10000

// Device is one device's counters; a latency that has no sample yet is absent from Latency.
type Device struct {
	ID string
	// Counters holds every non-latency counter as served (read_bytes, rx_frames, ...).
	Counters map[string]uint64
	// LatencyUS holds the latencies that have a value (read_latency_min, ...), in µs.
	LatencyUS map[string]uint64
}

// Limits bound what one VMM can make the collector read and hold.
type Limits struct {
	MaxBodyBytes int64 // default 1 MiB (a VM with 64 devices answers about 20 KiB)
	MaxDevices   int   // default 256
	MaxCounters  int   // per device, default 64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxDevices <= 0 {
		l.MaxDevices = 256
	}
	if l.MaxCounters <= 0 {
		l.MaxCounters = 64
	}
	return l
}

// ErrTooLarge is returned for an answer past a limit: it is refused whole.
var ErrTooLarge = unixapi.ErrTooLarge

// Parse decodes a vm.counters body, dropping the latency sentinels. Devices come sorted by id.
func Parse(body []byte, l Limits) ([]Device, error) {
	l = l.withDefaults()
	if int64(len(body)) > l.MaxBodyBytes {
		return nil, ErrTooLarge
	}
	var raw map[string]map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("vm.counters: %w", err)
	}
	if dec.More() {
		return nil, errors.New("vm.counters: data after the object")
	}
	if len(raw) > l.MaxDevices {
		return nil, fmt.Errorf("vm.counters: %d devices: %w", len(raw), ErrTooLarge)
	}
	out := make([]Device, 0, len(raw))
	for id, counters := range raw {
		if len(counters) > l.MaxCounters {
			return nil, fmt.Errorf("vm.counters: device %q has %d counters: %w", id, len(counters), ErrTooLarge)
		}
		d := Device{ID: id, Counters: map[string]uint64{}, LatencyUS: map[string]uint64{}}
		for name, num := range counters {
			v, err := parseU64(num)
			if err != nil {
				return nil, fmt.Errorf("vm.counters: %s.%s: %w", id, name, err)
			}
			if isLatency(name) {
				if v == math.MaxUint64 || (strings.HasSuffix(name, "_avg") && v == math.MaxUint64/latencyScale) {
					continue // no request completed yet
				}
				d.LatencyUS[name] = v
				continue
			}
			d.Counters[name] = v
		}
		out = append(out, d)
	}
	sortDevices(out)
	return out, nil
}

func parseU64(n json.RawMessage) (uint64, error) {
	s := string(n)
	var v uint64
	if _, err := fmt.Sscan(s, &v); err != nil || fmt.Sprint(v) != s {
		return 0, fmt.Errorf("not an unsigned integer: %q", s)
	}
	return v, nil
}

func isLatency(name string) bool { return strings.Contains(name, "_latency_") }

func sortDevices(d []Device) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j].ID < d[j-1].ID; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// Client asks one VMM's API socket for its counters.
type Client struct {
	Socket  string
	Timeout time.Duration // default 2 s: a VMM stuck in its guest's hands must not stall a scrape
	Limits  Limits
	// Dial, when set, connects instead of dialing Socket: a socket found on a VMM's command
	// line is opened inside that VMM's root (vmmargs.Root.DialUnix).
	Dial func(ctx context.Context) (net.Conn, error)
}

// Counters performs GET /api/v1/vm.counters. The body is read up to MaxBodyBytes+1 bytes and
// refused past the limit.
func (c Client) Counters(ctx context.Context) ([]Device, error) {
	body, err := c.get(ctx, "vm.counters")
	if err != nil {
		return nil, err
	}
	return Parse(body, c.Limits)
}

// get asks the API for one endpoint, with the client's timeout and body limit.
func (c Client) get(ctx context.Context, endpoint string) ([]byte, error) {
	l := c.Limits.withDefaults()
	body, err := unixapi.Client{Socket: c.Socket, Timeout: c.Timeout, MaxBodyBytes: l.MaxBodyBytes, Dial: c.Dial}.Get(ctx, "/api/v1/"+endpoint)
	if errors.Is(err, unixapi.ErrTooLarge) {
		return nil, fmt.Errorf("cloud-hypervisor %s: %w", endpoint, ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("cloud-hypervisor %w", err)
	}
	return body, nil
}
