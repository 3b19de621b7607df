package wasmruntimereceiver

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// serveFirecrackerAPI answers GET / and GET /machine-config on sock with the API fixtures the
// pointers name, counting the machine-config requests.
func serveFirecrackerAPI(t *testing.T, sock string, info, machine *atomic.Pointer[string], machineAsks *atomic.Int32) *http.Server {
	t.Helper()
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		switch r.URL.Path {
		case "/":
			name = *info.Load()
		case "/machine-config":
			machineAsks.Add(1)
			name = *machine.Load()
		default:
			http.Error(w, `{"fault_message":"Invalid request method and/or path"}`, http.StatusBadRequest)
			return
		}
		data, err := os.ReadFile(fcFixture + "api/" + name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(data)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func vmStates(rm pmetric.ResourceMetrics) map[string]float64 {
	got := map[string]float64{}
	for _, p := range points(rm, "wasm_runtime.vm.state") {
		got[p.attrs["wasm_runtime.vm.state"]] = p.value
	}
	return got
}

// TestFirecrackerAPI: a jailed Firecracker sized through its API, as firecracker-containerd
// and Kata do (nothing of its size on its command line). Its socket is found on its command
// line inside its chroot; the size follows PUT /machine-config until InstanceStart and is not
// asked again after (Firecracker refuses to change it), the state is asked at every scrape.
func TestFirecrackerAPI(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	fx.write(t, root)
	run := filepath.Join(root, "proc", "4100", "root", "run")
	require.NoError(t, os.MkdirAll(run, 0o755))
	var info, machine atomic.Pointer[string]
	var machineAsks atomic.Int32
	set := func(p *atomic.Pointer[string], name string) { p.Store(&name) }
	set(&info, "instance-info.not-started.json")
	set(&machine, "machine-config.json")
	srv := serveFirecrackerAPI(t, run+"/firecracker.socket", &info, &machine, &machineAsks)

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{}}
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.NoError(t, err)
	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Empty(t, resAttr(fc, "wasm_runtime.vm.vcpus"), "nothing of the size on the command line")
	assert.Equal(t, 2.0, mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))
	assert.Equal(t, float64(1024<<20), mustValue(t, fc, "wasm_runtime.vm.memory.size"))
	assert.Equal(t, map[string]float64{"not_started": 1, "running": 0, "paused": 0}, vmStates(fc))

	// Resized before InstanceStart, then started: the new size, once.
	set(&machine, "machine-config.t2.json")
	set(&info, "instance-info.json")
	md, err = scrapeFresh(s)
	require.NoError(t, err)
	fc, _ = findResource(md, "wasm_runtime.vm.id", jailerID)
	assert.Equal(t, 4.0, mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))
	assert.Equal(t, float64(2048<<20), mustValue(t, fc, "wasm_runtime.vm.memory.size"))
	assert.Equal(t, map[string]float64{"not_started": 0, "running": 1, "paused": 0}, vmStates(fc))
	asked := machineAsks.Load()
	assert.Equal(t, int32(2), asked)
	md, err = scrapeFresh(s)
	require.NoError(t, err)
	assert.Equal(t, asked, machineAsks.Load(), "a started VM's machine-config is not asked again")
	fc, _ = findResource(md, "wasm_runtime.vm.id", jailerID)
	assert.Equal(t, 4.0, mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))

	// The API gone: its failure is counted, no state is made up, and the started VM's size
	// stands (it cannot change).
	require.NoError(t, srv.Close()) // and the listener unlinks the socket
	_, err = os.Stat(run + "/firecracker.socket")
	require.ErrorIs(t, err, os.ErrNotExist)
	md, err = scrapeFresh(s)
	require.Error(t, err)
	fc, _ = findResource(md, "wasm_runtime.vm.id", jailerID)
	assert.Empty(t, vmStates(fc))
	assert.Equal(t, 4.0, mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))
	mustValue(t, fc, "wasm_runtime.vm.guest.time") // its other metrics stay

	// no_api: the socket is not asked.
	srv = serveFirecrackerAPI(t, run+"/firecracker.socket", &info, &machine, &machineAsks)
	defer srv.Close()
	cfg.VM.Firecracker = []FirecrackerSource{{NoAPI: true}}
	before := machineAsks.Load()
	md, err = scrapeFresh(newTestScraper(t, cfg))
	require.NoError(t, err)
	fc, _ = findResource(md, "wasm_runtime.vm.id", jailerID)
	assert.Empty(t, vmStates(fc))
	_, sized := value(fc, "wasm_runtime.vm.vcpu.count")
	assert.False(t, sized)
	assert.Equal(t, before, machineAsks.Load())
}

// A configured api_socket (the path an orchestrator gave, as the collector sees it) with the
// instance named by vm_id.
func TestFirecrackerConfiguredAPISocket(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	fx.write(t, root)
	sock := filepath.Join(t.TempDir(), "fc.sock")
	var info, machine atomic.Pointer[string]
	var asks atomic.Int32
	name, mc := "instance-info.json", "machine-config.json"
	info.Store(&name)
	machine.Store(&mc)
	serveFirecrackerAPI(t, sock, &info, &machine, &asks)
	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{APISocket: sock, VMID: jailerID}}
	md, err := scrapeFresh(newTestScraper(t, cfg))
	require.NoError(t, err)
	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Equal(t, 2.0, mustValue(t, fc, "wasm_runtime.vm.vcpu.count"))
	assert.Equal(t, 1.0, vmStates(fc)["running"])
	_, metrics := value(fc, "wasm_runtime.vm.network.io")
	assert.False(t, metrics, "no metrics_path configured: no metrics file read")
}
