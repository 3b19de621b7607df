package virtualizationattributesprocessor

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

const fixturesDir = "../../internal/virtdetect/testdata/hosts"

// fixtureProcessor returns a processor whose host is a captured fixture root.
func fixtureProcessor(t testing.TB, fixture string, mutate func(*Config)) (*virtProcessor, *componenttest.Telemetry) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.RootPath, _ = filepath.Abs(filepath.Join(fixturesDir, fixture, "root"))
	cfg.Association.Lookup = false
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	var cpu virtdetect.CPUID = virtdetect.NoCPUID
	if b, err := os.ReadFile(filepath.Join(fixturesDir, fixture, "cpuid")); err == nil {
		cpu = virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newVirtProcessorWithCPUID(cfg, set, cpu)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p, tel
}

func tracesWith(resources ...map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, attrs := range resources {
		rs := td.ResourceSpans().AppendEmpty()
		_ = rs.Resource().Attributes().FromRaw(attrs)
		rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
	}
	return td
}

func strAttr(t *testing.T, m pcommon.Map, k string) string {
	t.Helper()
	v, ok := m.Get(k)
	if !ok {
		return ""
	}
	return v.AsString()
}

func sliceAttr(m pcommon.Map, k string) []string {
	v, ok := m.Get(k)
	if !ok {
		return nil
	}
	var out []string
	for _, x := range v.Slice().AsRaw() {
		out = append(out, x.(string))
	}
	return out
}

func TestHostAttributesFromFixtures(t *testing.T) {
	tests := []struct {
		fixture                    string
		hypervisor, vmm, hypType   string
		level, technology, runtime string
		layers                     []string
	}{
		{"live-firecracker-host", "kvm", "firecracker", "type1", "microvm", "firecracker", "",
			[]string{"hypervisor:kvm", "vmm:firecracker"}},
		{"docker-in-kvm-vm", "kvm", "qemu", "type1", "vm", "qemu", "docker",
			[]string{"hypervisor:kvm", "vmm:qemu", "container:docker"}},
		{"edera-zone", "xen", "", "type1", "microvm", "edera", "", []string{"hypervisor:xen", "guest:edera"}},
		{"kata-in-kvm", "kvm", "qemu", "type1", "microvm", "kata", "containerd",
			[]string{"hypervisor:kvm", "vmm:qemu", "guest:kata", "container:containerd"}},
		{"gvisor-in-vm", "other", "", "", "vm", "other", "docker",
			[]string{"hypervisor:other", "sandbox:gvisor", "container:docker"}},
		{"xen-dom0", "", "", "", "none", "", "", nil},
		{"wsl2", "hyperv", "", "type1", "vm", "wsl", "", []string{"hypervisor:hyperv", "guest:wsl"}},
		{"baremetal", "", "", "", "none", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			p, _ := fixtureProcessor(t, tt.fixture, nil)
			td, err := p.processTraces(context.Background(), tracesWith(map[string]any{"service.name": "svc"}))
			require.NoError(t, err)
			attrs := td.ResourceSpans().At(0).Resource().Attributes()
			assert.Equal(t, tt.hypervisor, strAttr(t, attrs, attrHypervisorName))
			assert.Equal(t, tt.vmm, strAttr(t, attrs, attrVMMName))
			assert.Equal(t, tt.hypType, strAttr(t, attrs, attrHypervisorType))
			assert.Equal(t, tt.level, strAttr(t, attrs, attrHostIsolationLevel))
			assert.Equal(t, tt.technology, strAttr(t, attrs, attrHostIsolationTechnology))
			assert.Equal(t, tt.runtime, strAttr(t, attrs, attrContainerRuntime))
			assert.Equal(t, tt.layers, sliceAttr(attrs, attrLayers))
			assert.Equal(t, "svc", strAttr(t, attrs, "service.name"))
			_, compat := attrs.Get(attrCompatType)
			assert.False(t, compat, "compatibility attributes are off by default")
		})
	}
}

func TestInsertOnlyUnlessOverride(t *testing.T) {
	app := map[string]any{attrHypervisorName: "set-by-app", attrLayers: []any{"app"}}
	p, _ := fixtureProcessor(t, "live-firecracker-host", nil)
	td, _ := p.processTraces(context.Background(), tracesWith(app))
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	assert.Equal(t, "set-by-app", strAttr(t, attrs, attrHypervisorName))
	assert.Equal(t, []string{"app"}, sliceAttr(attrs, attrLayers))
	assert.Equal(t, "firecracker", strAttr(t, attrs, attrVMMName), "absent attributes are still inserted")

	p, _ = fixtureProcessor(t, "live-firecracker-host", func(c *Config) { c.Override = true })
	td, _ = p.processTraces(context.Background(), tracesWith(app))
	attrs = td.ResourceSpans().At(0).Resource().Attributes()
	assert.Equal(t, "kvm", strAttr(t, attrs, attrHypervisorName))
	assert.Equal(t, []string{"hypervisor:kvm", "vmm:firecracker"}, sliceAttr(attrs, attrLayers))
}

func TestEveryAttributeCanBeSwitchedOff(t *testing.T) {
	reg := inventory.Static(nil)
	publish(reg, []ri{{Key: "k", Kind: catalog.KindWasm, Runtime: "wasmtime", VMM: "x", Pids: []int{4242}}})
	run := func(ra ResourceAttributesConfig) pcommon.Map {
		p, _ := fixtureProcessor(t, "docker-in-kvm-vm", func(c *Config) {
			c.ResourceAttributes = ra
			c.Declared.Layers = []string{"hypervisor:xen"} // so that detection.layers exists too
		})
		p.inv.Store(reg)
		td, _ := p.processTraces(context.Background(), tracesWith(map[string]any{"process.pid": 4242}))
		return td.ResourceSpans().At(0).Resource().Attributes()
	}
	all := DefaultResourceAttributesConfig()
	all.VirtualizationType.Enabled, all.IsolationLevel.Enabled, all.HypervisorType.Enabled = true, true, true
	all.VirtualizationDetectionEvidence.Enabled = true
	everything := run(all)
	names := []string{attrHypervisorName, attrHypervisorType, attrVMMName, attrRole, attrLayers, attrHostIsolationLevel,
		attrHostIsolationTechnology, attrContainerRuntime, attrDetectionConfidence, attrDetectedLayers, attrDetectionEvidence,
		attrIsolationLevel, attrRuntimeName, attrInstanceVMMName, attrCompatType, attrCompatIsolationLevel, attrCompatHypervisorType}
	for _, n := range names {
		_, ok := everything.Get(n)
		assert.True(t, ok, "%s is emitted when enabled", n)
	}
	assert.Equal(t, everything.Len(), len(names)+1, "exactly the documented attributes plus process.pid")
	assert.Equal(t, "wasmtime", strAttr(t, everything, attrCompatType), "the seed's virtualization.type names the instance's runtime")
	assert.Equal(t, "wasm", strAttr(t, everything, attrCompatIsolationLevel))
	assert.Equal(t, "type1", strAttr(t, everything, attrCompatHypervisorType))

	none := run(ResourceAttributesConfig{})
	assert.Equal(t, 1, none.Len(), "with every switch off only the application's attributes remain: %v", none.AsRaw())
}

func TestDeclaredOverrideKeepsDetectionAsEvidence(t *testing.T) {
	p, _ := fixtureProcessor(t, "xen-pv-domu", func(c *Config) {
		c.Declared = DeclaredConfig{IsolationLevel: "microvm", IsolationTechnology: "edera", Layers: []string{"hypervisor:xen", "guest:edera"}}
	})
	td, _ := p.processTraces(context.Background(), tracesWith(map[string]any{}))
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	assert.Equal(t, []string{"hypervisor:xen", "guest:edera"}, sliceAttr(attrs, attrLayers))
	assert.Equal(t, []string{"hypervisor:xen"}, sliceAttr(attrs, attrDetectedLayers), "what detection saw stays as evidence")
	assert.Equal(t, "edera", strAttr(t, attrs, attrHostIsolationTechnology))
	assert.Equal(t, "microvm", strAttr(t, attrs, attrHostIsolationLevel))
	assert.Equal(t, "xen", strAttr(t, attrs, attrHypervisorName), "undeclared fields keep the detected value")
}

func TestRegistryAssociationAndSelfMetric(t *testing.T) {
	p, tel := fixtureProcessor(t, "live-firecracker-host", nil)
	reg := inventory.Static(nil)
	p.inv.Store(reg)
	publish(reg, []ri{
		{Key: "/kubepods/podA/c1", Kind: catalog.KindWasm, Runtime: "wasmtime", Pids: []int{100}, ContainerID: "c1", PodUID: "podA"},
		{Key: "pid:200:1", Kind: catalog.KindMicroVM, Runtime: "firecracker", VMM: "firecracker", Pids: []int{200}},
	})
	td := tracesWith(
		map[string]any{"container.id": "c1"},
		map[string]any{"k8s.pod.uid": "podA"},
		map[string]any{"process.pid": int64(200)},
		map[string]any{"service.instance.id": "c1"},
		map[string]any{"process.pid": int64(999)},
		map[string]any{"service.name": "no-identity"},
	)
	td, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	rss := td.ResourceSpans()
	for i, want := range []struct{ level, runtime, vmm string }{
		{"wasm", "wasmtime", ""}, {"wasm", "wasmtime", ""}, {"microvm", "firecracker", "firecracker"},
		{"wasm", "wasmtime", ""}, {"", "", ""}, {"", "", ""},
	} {
		attrs := rss.At(i).Resource().Attributes()
		assert.Equal(t, want.level, strAttr(t, attrs, attrIsolationLevel), "resource %d", i)
		assert.Equal(t, want.runtime, strAttr(t, attrs, attrRuntimeName), "resource %d", i)
		assert.Equal(t, want.vmm, strAttr(t, attrs, attrInstanceVMMName), "resource %d", i)
		assert.Equal(t, "kvm", strAttr(t, attrs, attrHypervisorName), "host attributes on every resource")
	}
	assertAssociations(t, tel, map[string]int64{"hit": 4, "miss": 1, "none": 1})

	// A stale registry is not trusted.
	p.cfg.Association.InventoryMaxAge = time.Nanosecond
	time.Sleep(time.Millisecond)
	td, _ = p.processTraces(context.Background(), tracesWith(map[string]any{"process.pid": int64(200)}))
	_, ok := td.ResourceSpans().At(0).Resource().Attributes().Get(attrIsolationLevel)
	assert.False(t, ok)
	assertAssociations(t, tel, map[string]int64{"hit": 4, "miss": 2, "none": 1})
}

func assertAssociations(t *testing.T, tel *componenttest.Telemetry, want map[string]int64) {
	t.Helper()
	m, err := tel.GetMetric("otelcol_processor_virtualization_attributes_associations")
	require.NoError(t, err)
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		r, _ := dp.Attributes.Value("result")
		got[r.AsString()] = dp.Value
	}
	assert.Equal(t, want, got)
}

func TestCacheIsBounded(t *testing.T) {
	c := newAssocCache(8)
	for i := 0; i < 100; i++ {
		c.put(cacheKey{kind: keyPID, n: int64(i)}, cacheEntry{expires: time.Now().Add(time.Hour).UnixNano()})
		assert.LessOrEqual(t, c.len(), 8)
	}
	_, ok := c.get(cacheKey{kind: keyPID, n: 99})
	assert.True(t, ok, "the newest entry is kept")
}

// TestAllocationsDoNotGrowWithSpans checks the "per resource, never per span" contract on a
// cache hit: a resource with 10,000 spans costs the same allocations as one with 10.
func TestAllocationsDoNotGrowWithSpans(t *testing.T) {
	p, _ := fixtureProcessor(t, "live-firecracker-host", nil)
	reg := inventory.Static(nil)
	publish(reg, []ri{{Key: "k", Kind: catalog.KindWasm, Runtime: "wasmtime", Pids: []int{77}}})
	p.inv.Store(reg)
	mallocs := func(spans int) uint64 {
		src := ptrace.NewTraces()
		rs := src.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutInt("process.pid", 77)
		ss := rs.ScopeSpans().AppendEmpty().Spans()
		for i := 0; i < spans; i++ {
			ss.AppendEmpty().SetName("op")
		}
		var best uint64 = 1 << 62
		for run := 0; run < 5; run++ { // the minimum filters out background allocations
			td := ptrace.NewTraces()
			src.CopyTo(td)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := p.processTraces(context.Background(), td)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			best = min(best, after.Mallocs-before.Mallocs)
			require.Equal(t, "wasm", strAttr(t, td.ResourceSpans().At(0).Resource().Attributes(), attrIsolationLevel))
		}
		return best
	}
	mallocs(1) // warm the association cache
	few, many := mallocs(10), mallocs(10_000)
	t.Logf("allocations per resource: %d with 10 spans, %d with 10,000 spans", few, many)
	assert.Equal(t, few, many, "allocations must not depend on the number of spans")
}

// TestRefreshPicksUpChanges copies a fixture root, starts the processor with a short
// refresh_interval and checks that a container appearing on the host shows up in the layers.
func TestRefreshPicksUpChanges(t *testing.T) {
	root := t.TempDir()
	src, _ := filepath.Abs(filepath.Join(fixturesDir, "kvm-qemu", "root"))
	require.NoError(t, os.CopyFS(root, os.DirFS(src)))
	p, _ := fixtureProcessor(t, "kvm-qemu", func(c *Config) {
		c.RootPath = root
		c.RefreshInterval = 20 * time.Millisecond
	})
	layers := func() []string {
		td, err := p.processTraces(context.Background(), tracesWith(map[string]any{}))
		require.NoError(t, err)
		return sliceAttr(td.ResourceSpans().At(0).Resource().Attributes(), attrLayers)
	}
	assert.Equal(t, []string{"hypervisor:kvm", "vmm:qemu"}, layers())
	// A container appears: Docker's marker and its cgroup (a marker alone would be an image's leftover).
	require.NoError(t, os.WriteFile(filepath.Join(root, "proc", "1", "cgroup"), []byte("1:pids:/docker/3f1d2c9be7a0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, ".dockerenv"), nil, 0o644))
	assert.Eventually(t, func() bool {
		l := layers()
		return len(l) == 3 && l[2] == "container:docker"
	}, 10*time.Second, 10*time.Millisecond, "the refreshed detection sees the new container")
}

func TestPIDOneIsNeverLookedUp(t *testing.T) {
	p, _ := fixtureProcessor(t, "live-firecracker-host", nil)
	reg := inventory.Static(nil)
	publish(reg, []ri{{Key: "init", Kind: catalog.KindProcess, Pids: []int{1}}})
	p.inv.Store(reg)
	td, _ := p.processTraces(context.Background(), tracesWith(map[string]any{"process.pid": int64(1)}, map[string]any{"process.pid": "1"}))
	for i := 0; i < 2; i++ {
		_, ok := td.ResourceSpans().At(i).Resource().Attributes().Get(attrIsolationLevel)
		assert.False(t, ok, "pid 1 is a container's own view of itself, not the node's init")
	}
}

func TestEmptyRootPathWarns(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.RootPath = t.TempDir()
	cfg.Association.Lookup = false
	core, logs := observer.New(zap.WarnLevel)
	set := processortest.NewNopSettings(Type)
	set.Logger = zap.New(core)
	p, err := newVirtProcessorWithCPUID(cfg, set, virtdetect.NoCPUID)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	defer p.shutdown(context.Background())
	require.Equal(t, 1, logs.FilterMessageSnippet("root_path has no /proc").Len(), "a wrong mount is reported once")
	td, err := p.processTraces(context.Background(), tracesWith(map[string]any{"service.name": "x"}))
	require.NoError(t, err)
	assert.Equal(t, "none", strAttr(t, td.ResourceSpans().At(0).Resource().Attributes(), attrHostIsolationLevel))
}

// An association answered by the own lookup's cache while the registry is fresh (but does not
// know the pod) allocates nothing, like a registry hit.
func TestLookupHitWithFreshRegistryDoesNotAllocate(t *testing.T) {
	p, _ := fixtureProcessor(t, "live-firecracker-host", nil)
	reg := inventory.Static(nil)
	publish(reg, []ri{{Key: "other", Kind: catalog.KindWasm, Pids: []int{5}, PodUID: "someone-else"}})
	p.inv.Store(reg)
	info := newInstanceInfo(catalog.KindContainer, "containerd", "", p.cfg.ResourceAttributes)
	p.cache.put(cacheKey{kind: keyPod, s: "pod-from-lookup"}, cacheEntry{info: info, expires: time.Now().Add(time.Hour).UnixNano()})
	attrs := pcommon.NewMap()
	attrs.PutStr("k8s.pod.uid", "pod-from-lookup")
	b := p.begin(context.Background())
	got, _ := p.associate(attrs, &b) // the first batch asks the snapshot, then remembers its answer
	require.Same(t, info, got)
	e, _ := p.cache.get(cacheKey{kind: keyPod, s: "pod-from-lookup"})
	assert.Same(t, b.snap, e.regMiss, "the snapshot's miss is remembered, so it is not asked per batch")
	allocs := testing.AllocsPerRun(100, func() {
		got, _ := p.associate(attrs, &b)
		if got != info {
			t.Fatal("lost the association")
		}
	})
	assert.Zero(t, allocs)
}
