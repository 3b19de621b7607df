package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t testing.TB, name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

func returnOf(t testing.TB, name string) []byte {
	var a struct{ Return json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(fixture(t, name)), &a))
	return a.Return
}

func TestParseCapture(t *testing.T) {
	v, err := ParseGreeting([]byte(fixture(t, "greeting.json")))
	require.NoError(t, err)
	assert.Equal(t, Version{7, 2, 22}, v)
	assert.True(t, v.HasQueryStats())
	vcpus, err := ParseVCPUStats(returnOf(t, "query-cpus-fast.json"), returnOf(t, "query-stats.json"))
	require.NoError(t, err)
	require.Len(t, vcpus, 2)
	// query-stats lists vCPU 1 first; they are joined by QOM path and sorted by index.
	assert.Equal(t, 0, vcpus[0].Index)
	assert.Equal(t, "/machine/unattached/device[0]", vcpus[0].QOMPath)
	assert.Equal(t, 30291, vcpus[0].ThreadID)
	assert.Equal(t, uint64(6925), vcpus[0].Stats.Exits)
	assert.Equal(t, uint64(63), vcpus[0].Stats.HaltExits)
	assert.Equal(t, uint64(1), vcpus[1].Stats.HaltExits)
	assert.Equal(t, uint64(3772234368), vcpus[1].Stats.HaltWaitNS)
	assert.Equal(t, uint64(36), vcpus[1].Stats.HaltWakeup)
}

func TestParseRejects(t *testing.T) {
	cpus := returnOf(t, "query-cpus-fast.json")
	for name, stats := range map[string]string{
		"a vCPU missing":     `[{"provider":"kvm","qom-path":"/machine/unattached/device[0]","stats":[{"name":"exits","value":1}]}]`,
		"an unknown vCPU":    `[{"provider":"kvm","qom-path":"/machine/peripheral/x","stats":[]}]`,
		"a negative count":   `[{"provider":"kvm","qom-path":"/machine/unattached/device[0]","stats":[{"name":"exits","value":-1}]},{"provider":"kvm","qom-path":"/machine/unattached/device[2]","stats":[]}]`,
		"a histogram as one": `[{"provider":"kvm","qom-path":"/machine/unattached/device[0]","stats":[{"name":"exits","value":[1,2]}]},{"provider":"kvm","qom-path":"/machine/unattached/device[2]","stats":[]}]`,
		"past int64":         `[{"provider":"kvm","qom-path":"/machine/unattached/device[0]","stats":[{"name":"exits","value":9223372036854775808}]},{"provider":"kvm","qom-path":"/machine/unattached/device[2]","stats":[]}]`,
		"not a list":         `{}`,
	} {
		_, err := ParseVCPUStats(cpus, []byte(stats))
		assert.Error(t, err, name)
	}
	// A histogram or flag of a name KVMStats does not hold is ignored.
	_, err := ParseVCPUStats(cpus, []byte(`[{"provider":"kvm","qom-path":"/machine/unattached/device[0]","stats":[{"name":"blocking","value":false},{"name":"halt_wait_hist","value":[0,1]}]},{"provider":"kvm","qom-path":"/machine/unattached/device[2]","stats":[]}]`))
	assert.NoError(t, err)
	_, err = ParseVCPUStats(cpus, []byte(`[]`))
	assert.ErrorIs(t, err, ErrNotKVM, "TCG: nothing to report, not a failure")
	_, err = ParseVCPUStats([]byte(`[{"cpu-index":0,"qom-path":"/a"},{"cpu-index":1,"qom-path":"/a"}]`), []byte(`[]`))
	assert.Error(t, err, "two vCPUs on one QOM path")
	v, err := ParseGreeting([]byte(`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 7}}}}`))
	require.NoError(t, err)
	assert.False(t, v.HasQueryStats(), "QEMU 7.0: no query-stats")
	_, err = ParseGreeting([]byte(`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 11, "major": 2}}}}`))
	assert.Error(t, err, "QEMU 2.11: no query-cpus-fast")
	_, err = ParseGreeting([]byte(`QEMU 7.2.22 monitor - type 'help' for more information`))
	assert.Error(t, err, "an HMP monitor")
}

// serveTranscript is a monitor that answers from the capture, with events in between, and
// lets a test change what it sends for one command.
func serveTranscript(t *testing.T, override map[string]string) string {
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	answers := map[string]string{
		"greeting": fixture(t, "greeting.json"), "qmp_capabilities": fixture(t, "qmp_capabilities.json"),
		"query-cpus-fast": fixture(t, "query-cpus-fast.json"), "query-stats": fixture(t, "query-stats.json"),
		"query-blockstats": fixture(t, "query-blockstats.json"), "query-status": fixture(t, "query-status.json"),
		"query-memory-size-summary": fixture(t, "query-memory-size-summary.json"),
		"query-balloon":             fixture(t, "query-balloon.json"),
	}
	for k, v := range override {
		answers[k] = v
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				w := bufio.NewWriter(c)
				w.WriteString(answers["greeting"] + "\r\n")
				w.Flush()
				r := bufio.NewScanner(c)
				for r.Scan() {
					var req struct{ Execute string }
					if json.Unmarshal(r.Bytes(), &req) != nil {
						return
					}
					w.WriteString(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}` + "\r\n")
					w.WriteString(answers[req.Execute] + "\r\n")
					w.Flush()
				}
			}()
		}
	}()
	return sock
}

func TestClientTranscript(t *testing.T) {
	st, err := Client{Socket: serveTranscript(t, nil)}.Query(context.Background())
	require.NoError(t, err)
	require.Len(t, st.VCPUs, 2)
	assert.Equal(t, uint64(6925), st.VCPUs[0].Stats.Exits)
	assert.Equal(t, []Block{{Device: "disk0", RdBytes: 512, RdOps: 1}}, st.Blocks)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, 2, st.CPUs)
	assert.Equal(t, uint64(64<<20), st.MemoryBytes)
	assert.True(t, st.HasBalloon)
	assert.Equal(t, uint64(64<<20), st.BalloonBytes)

	st, err = Client{Socket: serveTranscript(t, map[string]string{"query-stats": `{"return": [], "id": 5}`})}.Query(context.Background())
	require.NoError(t, err, "TCG")
	assert.True(t, st.NotKVM)
	assert.Len(t, st.Blocks, 1, "disks are counted under TCG too")

	// QEMU 6.2 (Ubuntu 22.04, RHEL 8): no query-stats, which is not asked; the rest is
	// answered. Its ids shift by one.
	old := fixture(t, "greeting.json")
	old = strings.Replace(old, `"minor": 2, "major": 7`, `"minor": 2, "major": 6`, 1)
	st, err = Client{Socket: serveTranscript(t, map[string]string{"greeting": old,
		"query-blockstats": strings.Replace(fixture(t, "query-blockstats.json"), `"id": 6`, `"id": 5`, 1),
		"query-balloon":    strings.Replace(fixture(t, "query-balloon.json"), `"id": 7`, `"id": 6`, 1)})}.Query(context.Background())
	require.NoError(t, err)
	assert.True(t, st.NotKVM)
	assert.Len(t, st.Blocks, 1)
	assert.Equal(t, 2, st.CPUs)

	for name, o := range map[string]map[string]string{
		"query-stats refused":        {"query-stats": `{"id": 5, "error": {"class": "CommandNotFound", "desc": "The command query-stats has not been found"}}`},
		"an answer to another id":    {"query-cpus-fast": strings.Replace(fixture(t, "query-cpus-fast.json"), `"id": 4`, `"id": 7`, 1)},
		"a line past the limit":      {"query-stats": `{"id": 5, "return": [` + strings.Repeat(" ", 2<<20) + `]}`},
		"truncated":                  {"query-stats": fixture(t, "query-stats.json")[:300]},
		"an unknown RunState":        {"query-status": `{"return": {"status": "exploded", "running": false}, "id": 2}`},
		"a balloon without its size": {"query-balloon": `{"return": {}, "id": 7}`},
		"a disk without counters":    {"query-blockstats": `{"return": [{"device": "d", "stats": {"rd_bytes": 1}}], "id": 6}`},
	} {
		_, err := Client{Socket: serveTranscript(t, o)}.Query(context.Background())
		assert.Error(t, err, name)
	}
}

func TestParseBlockStats(t *testing.T) {
	blocks, err := ParseBlockStats([]byte(`[{"device": "", "qdev": "/machine/peripheral/vdb/virtio-backend", "node-name": "f2", "stats": {"rd_bytes": 4096, "wr_bytes": 8192, "rd_operations": 1, "wr_operations": 2}},
		{"device": "", "qdev": "/machine/peripheral-anon/device[3]/virtio-backend", "node-name": "#block143", "stats": {"rd_bytes": 0, "wr_bytes": 0, "rd_operations": 0, "wr_operations": 0}}]`))
	require.NoError(t, err)
	assert.Equal(t, []Block{{Device: "vdb", RdBytes: 4096, WrBytes: 8192, RdOps: 1, WrOps: 2}, {Device: "#block143"}}, blocks,
		"a -blockdev disk is named by its -device id, else its node name")
	for _, bad := range []string{`{}`, `[{"device": "d", "stats": {"rd_bytes": -1, "wr_bytes": 0, "rd_operations": 0, "wr_operations": 0}}]`, `[{"stats": {"rd_bytes": 0, "wr_bytes": 0, "rd_operations": 0, "wr_operations": 0}}]`} {
		_, err := ParseBlockStats([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestParseStatusAndMemory(t *testing.T) {
	st, err := ParseStatus([]byte(`{"status": "paused", "singlestep": false, "running": false}`))
	require.NoError(t, err)
	assert.Equal(t, "paused", st)
	base, plugged, err := ParseMemorySize([]byte(`{"base-memory": 67108864, "plugged-memory": 134217728}`))
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{64 << 20, 128 << 20}, [2]uint64{base, plugged}, "a 128 MiB pc-dimm plugged")
	_, _, err = ParseMemorySize([]byte(`{"plugged-memory": 0}`))
	assert.Error(t, err)
	_, _, err = ParseMemorySize([]byte(`{"base-memory": 9223372036854775807}`))
	assert.Error(t, err)
	b, err := ParseBalloon([]byte(`{"actual": 50331648}`))
	require.NoError(t, err)
	assert.Equal(t, uint64(48<<20), b)
}

func FuzzParseVCPUStats(f *testing.F) {
	f.Add(returnOf(f, "query-cpus-fast.json"), returnOf(f, "query-stats.json"))
	f.Fuzz(func(t *testing.T, cpus, stats []byte) {
		v, err := ParseVCPUStats(cpus, stats)
		if err == nil && (len(v) == 0 || len(v) > maxCPUs) {
			t.Fatalf("%d vCPUs accepted", len(v))
		}
	})
}
