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
