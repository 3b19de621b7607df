package metadata

import (
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestMatchesMetadataYAML keeps the Go tables and the documented contract in step.
func TestMatchesMetadataYAML(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", "metadata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw := cm.ToStringMap()
	metrics := raw["metrics"].(map[string]any)
	if len(metrics) != int(NumMetrics) {
		t.Errorf("metadata.yaml has %d metrics, Go has %d", len(metrics), NumMetrics)
	}
	for _, d := range Metrics {
		y, ok := metrics[d.Name].(map[string]any)
		if !ok {
			t.Errorf("%s missing from metadata.yaml", d.Name)
			continue
		}
		if y["unit"] != d.Unit || y["enabled"] != d.EnabledByDefault || y["description"] != d.Description {
			t.Errorf("%s: yaml unit %v enabled %v description %q; Go %q %v %q", d.Name, y["unit"], y["enabled"], y["description"], d.Unit, d.EnabledByDefault, d.Description)
		}
		kind := "gauge"
		if d.Kind == Sum {
			kind = "sum"
		}
		body, ok := y[kind].(map[string]any)
		if !ok {
			t.Errorf("%s: not a %s in metadata.yaml", d.Name, kind)
			continue
		}
		vt := "int"
		if d.Double {
			vt = "double"
		}
		if body["value_type"] != vt {
			t.Errorf("%s: value_type %v, Go %s", d.Name, body["value_type"], vt)
		}
		if d.Kind == Sum && body["monotonic"] != d.Monotonic {
			t.Errorf("%s: monotonic %v, Go %v", d.Name, body["monotonic"], d.Monotonic)
		}
	}
	res := raw["resource_attributes"].(map[string]any)
	if len(res) != len(ResourceAttributes) {
		t.Errorf("metadata.yaml has %d resource attributes, Go has %d", len(res), len(ResourceAttributes))
	}
	for n, e := range ResourceAttributes {
		y, ok := res[n].(map[string]any)
		if !ok || y["enabled"] != e {
			t.Errorf("resource attribute %s: yaml %v, Go enabled %v", n, y, e)
		}
	}
}

func TestBuilder(t *testing.T) {
	mc := DefaultMetricsConfig()
	mc["container.cpu.time"] = MetricConfig{Enabled: false}
	rc := DefaultResourceAttributesConfig()
	rc[ResProcessPID] = ResourceAttributeConfig{Enabled: false}
	b := NewBuilder(mc, rc, "test")
	now := pcommon.NewTimestampFromTime(pcommon.Timestamp(0).AsTime())
	b.StartResource(1, now)
	b.PutStr(ResWasmRuntimeRuntime, "wasmtime")
	b.PutInt(ResProcessPID, 42)
	b.PutStr(ResContainerID, "")
	b.Double(ContainerCPUTime, 1, AttrCPUMode, "user")
	b.Double(ProcessCPUTime, 1, AttrCPUMode, "user")
	b.Double(ProcessCPUTime, 2, AttrCPUMode, "system")
	b.Int(ProcessMemoryVirtual, 5) // disabled by default
	b.Double(WasmRuntimeCPUUsage, 0.5)
	md := b.Emit()
	if md.ResourceMetrics().Len() != 1 {
		t.Fatalf("%d resources", md.ResourceMetrics().Len())
	}
	rm := md.ResourceMetrics().At(0)
	if _, ok := rm.Resource().Attributes().Get(ResProcessPID); ok {
		t.Error("disabled resource attribute set")
	}
	if _, ok := rm.Resource().Attributes().Get(ResContainerID); ok {
		t.Error("empty resource attribute set")
	}
	ms := rm.ScopeMetrics().At(0).Metrics()
	if ms.Len() != 2 {
		t.Fatalf("want process.cpu.time and wasm_runtime.cpu.usage, got %d metrics", ms.Len())
	}
	m := ms.At(0)
	if m.Name() != "process.cpu.time" || m.Type() != pmetric.MetricTypeSum || m.Sum().DataPoints().Len() != 2 || !m.Sum().IsMonotonic() {
		t.Errorf("process.cpu.time: %s %v %d", m.Name(), m.Type(), m.Sum().DataPoints().Len())
	}
	if ms.At(1).Type() != pmetric.MetricTypeGauge {
		t.Error("usage is not a gauge")
	}
	if err := mc.Validate(); err != nil {
		t.Error(err)
	}
	if err := (MetricsConfig{"container.cpu.tme": {}}).Validate(); err == nil {
		t.Error("typo accepted")
	}
	if err := (ResourceAttributesConfig{"k8s.pod.name": {}}).Validate(); err == nil {
		t.Error("unknown resource attribute accepted")
	}
}
