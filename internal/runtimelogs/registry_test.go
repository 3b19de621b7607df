package runtimelogs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/registry"
)

func testRegistry() *registry.Registry {
	reg := &registry.Registry{}
	reg.Publish([]registry.Instance{
		{Key: "/kubepods/pod1/abc", Kind: registry.KindWasm, Runtime: "wasmedge", PodUID: "49cc7c1f-d370-2c40-b268-6ea7486091d3",
			ContainerID: "abc", CgroupPath: "/kubepods/pod1/abc", Pids: []int{4100}},
		{Key: "/firecracker/anonymous-instance", Kind: registry.KindMicroVM, Runtime: "firecracker", VMM: "firecracker",
			Pids: []int{4200, 4201}, Attributes: map[string]string{"wasm_runtime.vm.id": "anonymous-instance", "wasm_runtime.vm.vcpus": "2"}},
		{Key: "pid:4300:99", Kind: registry.KindWasm, Runtime: "wazero", Pids: []int{4300}},
	})
	return reg
}

func TestRegistryResolver(t *testing.T) {
	r := RegistryResolver(testRegistry())

	got, ok := r.Resolve(InstanceRef{PID: 4201})
	require.True(t, ok, "any pid of the instance")
	assert.Equal(t, map[string]any{
		"wasm_runtime.instance.id": "/firecracker/anonymous-instance", "wasm_runtime.instance.kind": "microvm",
		"wasm_runtime.runtime": "firecracker", "wasm_runtime.vmm": "firecracker", "process.pid": int64(4200),
		"wasm_runtime.vm.id": "anonymous-instance", "wasm_runtime.vm.vcpus": int64(2),
	}, got)

	got, ok = r.Resolve(InstanceRef{PodUID: "49cc7c1f-d370-2c40-b268-6ea7486091d3"})
	require.True(t, ok)
	assert.Equal(t, "abc", got["container.id"])
	assert.Equal(t, "/kubepods/pod1/abc", got["wasm_runtime.cgroup.path"])

	got, ok = r.Resolve(InstanceRef{VMID: "anonymous-instance"})
	require.True(t, ok)
	assert.Equal(t, "/firecracker/anonymous-instance", got["wasm_runtime.instance.id"])

	for _, ref := range []InstanceRef{{PID: 1}, {PodUID: "nope"}, {VMID: "other"}, {Path: "/var/log/x.log"}} {
		_, ok := r.Resolve(ref)
		assert.False(t, ok, "%+v", ref)
	}
	_, ok = RegistryResolver(&registry.Registry{}).Resolve(InstanceRef{PID: 4300})
	assert.False(t, ok, "nothing published yet")
}

// TestFirecrackerRecordsJoinTheirVM reads the Firecracker fixture through the pipeline with the
// registry resolver: lines carrying the VM id get the VM's resource.
func TestFirecrackerRecordsJoinTheirVM(t *testing.T) {
	path, err := filepath.Abs(filepath.Join("testdata", "fixtures", "firecracker.log"))
	require.NoError(t, err)
	cfg := &Config{Sources: []SourceConfig{{Runtime: "firecracker", Include: []string{path}, StartAt: StartAtBeginning, PollInterval: 20 * time.Millisecond}}}
	sink, _ := startReceiver(t, cfg, RegistryResolver(testRegistry()), nil)
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 5 }, 10*time.Second, 20*time.Millisecond)
	joined := 0
	for _, r := range flatten(sink.AllLogs()) {
		if r.Attributes[AttrVMID] == "anonymous-instance" {
			joined++
			assert.Equal(t, "/firecracker/anonymous-instance", r.Resource["wasm_runtime.instance.id"], r.Body)
		} else {
			assert.NotContains(t, r.Resource, "wasm_runtime.instance.id", "a line without VM id: %s", r.Body)
		}
		assert.Equal(t, "firecracker", r.Resource["wasm_runtime.runtime"])
	}
	assert.Equal(t, 3, joined)
}

// TestRunwasiPodLogs reads a Kubernetes pod log file of a WasmEdge (runwasi) pod: the container
// parser unwraps the CRI lines and names the pod from the path, the WasmEdge preset parses the
// error spread over four lines, and the pod uid joins the records to the pod's instance.
func TestRunwasiPodLogs(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "pods"))
	require.NoError(t, err)
	cfg := &Config{Sources: []SourceConfig{{
		Runtime: "wasmedge", Name: "runwasi", Format: FormatContainer,
		Include: []string{filepath.Join(dir, "*_*_*", "*", "*.log")}, StartAt: StartAtBeginning,
		PollInterval: 20 * time.Millisecond, MultilineFlushPeriod: 100 * time.Millisecond,
	}}}
	sink, _ := startReceiver(t, cfg, RegistryResolver(testRegistry()), nil)
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 2 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	recs := flatten(sink.AllLogs())
	require.Len(t, recs, 2)
	var trap, hello record
	for _, r := range recs {
		if r.Attributes[AttrTrapCode] != nil {
			trap = r
		} else {
			hello = r
		}
	}
	assert.Equal(t, "memory_out_of_bounds", trap.Attributes[AttrTrapCode])
	assert.Equal(t, "0x408", trap.Attributes[AttrErrorCode])
	assert.Equal(t, "to_test", trap.Attributes[AttrWasmFunction])
	assert.Equal(t, "stderr", trap.Attributes["log.iostream"])
	assert.Contains(t, trap.Body, "Bytecode offset: 0x0000019c")
	for _, r := range []record{trap, hello} {
		assert.Equal(t, "/kubepods/pod1/abc", r.Resource["wasm_runtime.instance.id"], r.Body)
		assert.Equal(t, "49cc7c1f-d370-2c40-b268-6ea7486091d3", r.Resource["k8s.pod.uid"])
		assert.Equal(t, "wasm-app", r.Resource["k8s.pod.name"])
		assert.Equal(t, "app", r.Resource["k8s.container.name"])
	}
	assert.Equal(t, "hello from the guest", hello.Body)
}
