package firecracker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type expected struct {
	LinesAccepted   uint64            `json:"lines_accepted"`
	Oversized       uint64            `json:"oversized"`
	Malformed       uint64            `json:"malformed"`
	LastTimestampMs uint64            `json:"last_timestamp_ms"`
	Counters        map[string]uint64 `json:"counters"`
	Gauges          map[string]uint64 `json:"gauges"`
}

func load(t *testing.T) ([]byte, expected) {
	data, err := os.ReadFile("testdata/metrics.jsonl")
	require.NoError(t, err)
	raw, err := os.ReadFile("testdata/expected.json")
	require.NoError(t, err)
	var e expected
	require.NoError(t, json.Unmarshal(raw, &e))
	return data, e
}

func check(t *testing.T, a *Accumulator, e expected) {
	t.Helper()
	assert.Equal(t, e.LinesAccepted, a.Lines)
	assert.Equal(t, Dropped{Oversized: e.Oversized, Malformed: e.Malformed}, a.Dropped)
	assert.Equal(t, e.LastTimestampMs, a.LastTimestampMs)
	for k, v := range e.Counters {
		got, ok := a.Counter(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, got, k)
	}
	for k, v := range e.Gauges {
		got, ok := a.Gauge(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, got, k)
	}
	assert.Len(t, a.sums, len(e.Counters), "no counter invented")
	assert.Len(t, a.gauges, len(e.Gauges))
	assert.Greater(t, a.Pending(), 0, "the unfinished last flush waits for its newline")
}

func TestAccumulatorFixture(t *testing.T) {
	data, e := load(t)
	a := NewAccumulator(Limits{})
	a.Write(data)
	check(t, a, e)

	net := a.NetDevices()
	require.Len(t, net, 1)
	assert.Equal(t, "eth0", net[0].ID)
	assert.Equal(t, e.Counters["net_eth0.rx_bytes_count"], net[0].RxBytes)
	assert.Equal(t, e.Counters["net_eth0.tx_packets_count"], net[0].TxPackets)
	blk := a.BlockDevices()
	require.Len(t, blk, 1)
	assert.Equal(t, "rootfs", blk[0].ID)
	assert.Equal(t, e.Counters["block_rootfs.write_bytes"], blk[0].WriteBytes)
	assert.Equal(t, e.Counters["vcpu.exit_mmio_write"], a.VCPU().ExitMMIOWrite)
	assert.Equal(t, e.Gauges["seccomp.num_faults"], a.SeccompFaults(), "a store metric is a value, not summed")
	_, isCounter := a.Counter("vcpu.exit_io_in_agg.max_us")
	assert.False(t, isCounter, "latency max is a store metric")
}

// Feeding the file a few bytes at a time gives the same sums: lines split across reads join.
func TestAccumulatorSplitWrites(t *testing.T) {
	data, e := load(t)
	for _, step := range []int{1, 7, 4096, 65536} {
		a := NewAccumulator(Limits{})
		for i := 0; i < len(data); i += step {
			a.Write(data[i:min(i+step, len(data))])
		}
		check(t, a, e)
	}
}

func TestAccumulatorRejects(t *testing.T) {
	a := NewAccumulator(Limits{MaxLineBytes: 64, MaxKeys: 2})
	a.Write([]byte(`{"vcpu":{"exit_io_in":1,"exit_io_out":2}}` + "\n"))
	a.Write([]byte(`{"vcpu":{"exit_io_in":-1}}` + "\n"))                   // negative
	a.Write([]byte(`{"vcpu":{"exit_io_in":1.5}}` + "\n"))                  // not an integer
	a.Write([]byte(`{"vcpu":{"exit_io_in":18446744073709551616}}` + "\n")) // past u64
	a.Write([]byte(`[1,2]` + "\n" + `{"a":{"b":{"c":{"d":1}}}}` + "\n"))   // not an object; too deep
	a.Write([]byte(`{"vcpu":{"exit_io_in":5,"failures":1}}` + "\n"))       // a third key past MaxKeys
	a.Write([]byte(`{"x":"` + string(make([]byte, 100)) + `"}` + "\n"))    // oversized
	v, _ := a.Counter("vcpu.exit_io_in")
	assert.Equal(t, uint64(6), v, "only the valid lines count")
	_, ok := a.Counter("vcpu.failures")
	assert.False(t, ok)
	assert.Equal(t, Dropped{Oversized: 1, Malformed: 5, Keys: 1}, a.Dropped)
	assert.Equal(t, uint64(2), a.Lines)
}

func TestSourceFileAndFIFO(t *testing.T) {
	data, e := load(t)
	dir := t.TempDir()

	// A regular file read in 1 KiB polls, then truncated and rewritten (a restarted VMM).
	path := filepath.Join(dir, "metrics.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	s := NewSource(path, NewAccumulator(Limits{}))
	s.MaxReadBytes = 1 << 10
	defer s.Close()
	for i := 0; i < len(data)/1024+2; i++ {
		require.NoError(t, s.Poll())
	}
	check(t, s.Accumulator(), e)

	// A FIFO: Firecracker holds it open read-write; the reader drains what is there.
	fifo := filepath.Join(dir, "metrics.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	require.NoError(t, err)
	defer w.Close()
	fs := NewSource(fifo, NewAccumulator(Limits{}))
	defer fs.Close()
	require.NoError(t, fs.Poll(), "an empty FIFO is not an error")
	go func() { w.Write(data) }()
	for i := 0; i < 200 && fs.Accumulator().Lines < e.LinesAccepted; i++ {
		require.NoError(t, fs.Poll())
		syscall.Nanosleep(&syscall.Timespec{Nsec: 5e6}, nil)
	}
	check(t, fs.Accumulator(), e)

	require.Error(t, NewSource(filepath.Join(dir, "absent"), NewAccumulator(Limits{})).Poll())
	require.Error(t, NewSource(dir, NewAccumulator(Limits{})).Poll(), "a directory is refused")
}

func FuzzAccumulator(f *testing.F) {
	data, err := os.ReadFile("testdata/metrics.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[:4000])
	f.Add([]byte(`{"vcpu":{"exit_io_in":1}}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := NewAccumulator(Limits{MaxLineBytes: 1024, MaxKeys: 64})
		a.Write(b)
		if len(a.sums)+len(a.gauges) > 64 || a.Pending() > 1024 {
			t.Fatalf("bounds exceeded: %d keys, %d pending", len(a.sums)+len(a.gauges), a.Pending())
		}
	})
}

// A metrics path that names a device is refused before it is opened.
func TestSourceRefusesADevice(t *testing.T) {
	src := NewSource("/dev/null", NewAccumulator(Limits{}))
	err := src.Poll()
	require.ErrorContains(t, err, "neither a regular file nor a FIFO")
	assert.Equal(t, -1, src.fd, "never opened")
}
