package cloudhypervisor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFixture(t *testing.T) {
	body, err := os.ReadFile("testdata/vm.counters.json")
	require.NoError(t, err)
	devs, err := Parse(body, Limits{})
	require.NoError(t, err)
	require.Len(t, devs, 3)
	assert.Equal(t, "_disk0", devs[0].ID)
	assert.Equal(t, uint64(4194304), devs[0].Counters["write_bytes"])
	assert.Equal(t, uint64(32), devs[0].Counters["write_ops"])
	assert.Equal(t, map[string]uint64{"write_latency_min": 41, "write_latency_max": 2210, "write_latency_avg": 187}, devs[0].LatencyUS,
		"read latencies are still u64::MAX (and MAX/10000 for the average): dropped")
	assert.Equal(t, "_disk1", devs[1].ID)
	assert.Empty(t, devs[1].LatencyUS, "no request yet: no latency at all")
	assert.Len(t, devs[1].Counters, 4)
	assert.Equal(t, Device{ID: "_net0", Counters: map[string]uint64{"rx_bytes": 1048576, "rx_frames": 742, "tx_bytes": 65536, "tx_frames": 511}, LatencyUS: map[string]uint64{}}, devs[2])
}

func TestParseRejects(t *testing.T) {
	for _, name := range []string{"vm.counters.truncated", "vm.counters.oversized"} {
		body, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		_, err = Parse(body, Limits{})
		assert.Error(t, err, name)
	}
	body, _ := os.ReadFile("testdata/vm.counters.json")
	_, err := Parse(body, Limits{MaxBodyBytes: 100})
	assert.ErrorIs(t, err, ErrTooLarge)
	for _, bad := range []string{`{"d":{"x":-1}}`, `{"d":{"x":1.5}}`, `{"d":{"x":18446744073709551616}}`, `{"d":{"x":"1"}}`, `[]`, `{"d":{"x":1}} {}`, `{"d":{"x":01}}`} {
		_, err := Parse([]byte(bad), Limits{})
		assert.Error(t, err, bad)
	}
}

func serve(t *testing.T, h http.HandlerFunc) string {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestClient(t *testing.T) {
	body, err := os.ReadFile("testdata/vm.counters.json")
	require.NoError(t, err)
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/vm.counters" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	devs, err := Client{Socket: sock}.Counters(context.Background())
	require.NoError(t, err)
	assert.Len(t, devs, 3)

	big := serve(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 1<<16; i++ {
			fmt.Fprintf(w, "%064d", i)
		}
	})
	_, err = Client{Socket: big, Limits: Limits{MaxBodyBytes: 1 << 16}}.Counters(context.Background())
	assert.Error(t, err, "an endless answer is cut at the cap")

	stuck := serve(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Second) })
	start := time.Now()
	_, err = Client{Socket: stuck, Timeout: 200 * time.Millisecond}.Counters(context.Background())
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)

	notBooted := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "VmNotRunning", http.StatusInternalServerError)
	})
	_, err = Client{Socket: notBooted}.Counters(context.Background())
	assert.ErrorContains(t, err, "500")
}

func FuzzParse(f *testing.F) {
	body, _ := os.ReadFile("testdata/vm.counters.json")
	f.Add(body)
	f.Fuzz(func(t *testing.T, b []byte) {
		devs, err := Parse(b, Limits{MaxDevices: 8, MaxCounters: 8})
		if err == nil && len(devs) > 8 {
			t.Fatal("device cap exceeded")
		}
	})
}
