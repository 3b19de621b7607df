package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublishAndLookup(t *testing.T) {
	var r Registry
	assert.Nil(t, r.Snapshot())
	assert.False(t, r.Fresh(time.Minute))
	_, ok := r.Snapshot().ByPID(1)
	assert.False(t, ok, "lookups on an empty registry must not panic")

	r.Publish([]Instance{
		{Key: "/kubepods/pod1/abc", Kind: KindWasm, Runtime: "wasmtime", Pids: []int{10, 11}, ContainerID: "abc", PodUID: "pod1"},
		{Key: "pid:20:123", Kind: KindMicroVM, Runtime: "firecracker", VMM: "firecracker", Pids: []int{20}},
		{Key: "/kubepods/pod1/def", Kind: KindContainer, Pids: []int{30}, ContainerID: "def", PodUID: "pod1"},
	})
	s := r.Snapshot()
	require.NotNil(t, s)
	assert.True(t, r.Fresh(time.Minute))

	in, ok := s.ByPID(11)
	require.True(t, ok)
	assert.Equal(t, "wasmtime", in.Runtime)
	in, ok = s.ByPID(20)
	require.True(t, ok)
	assert.Equal(t, KindMicroVM, in.Kind)
	_, ok = s.ByPID(99)
	assert.False(t, ok)

	in, ok = s.ByContainerID("def")
	require.True(t, ok)
	assert.Equal(t, KindContainer, in.Kind)
	assert.Len(t, s.ByPodUID("pod1"), 2)
	assert.Empty(t, s.ByPodUID("nope"))

	// A new pass replaces the old one whole: vanished instances disappear.
	r.Publish([]Instance{{Key: "pid:20:123", Kind: KindMicroVM, Pids: []int{20}}})
	_, ok = r.Snapshot().ByPID(10)
	assert.False(t, ok)
	_, ok = s.ByPID(10)
	assert.True(t, ok, "a snapshot already taken stays valid")
}

func TestPublishersDoNotOverwriteEachOther(t *testing.T) {
	var r Registry
	r.PublishFor("wasm_runtime/a", []Instance{{Key: "a", Kind: KindWasm, Pids: []int{1}}})
	r.PublishFor("wasm_runtime/b", []Instance{{Key: "b", Kind: KindVM, Pids: []int{2}, ContainerID: "c2"}})
	s := r.Snapshot()
	_, ok := s.ByPID(1)
	assert.True(t, ok)
	in, ok := s.ByContainerID("c2")
	require.True(t, ok)
	assert.Equal(t, KindVM, in.Kind)

	// A new pass of a replaces only a's instances.
	r.PublishFor("wasm_runtime/a", []Instance{{Key: "a2", Kind: KindWasm, Pids: []int{3}}})
	_, ok = r.Snapshot().ByPID(1)
	assert.False(t, ok)
	_, ok = r.Snapshot().ByPID(2)
	assert.True(t, ok)

	r.Withdraw("wasm_runtime/b")
	_, ok = r.Snapshot().ByPID(2)
	assert.False(t, ok)
	r.Withdraw("wasm_runtime/a")
	assert.Nil(t, r.Snapshot())
	assert.False(t, r.Fresh(time.Hour))
}
