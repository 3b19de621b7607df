package virtualizationattributesprocessor

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

const spansPerBatch = 10_000

// benchBatch builds 10,000 spans spread evenly over n resources, each resource identifying its
// container the way an SDK's container detector does.
func benchBatch(resources int) ptrace.Traces {
	td := ptrace.NewTraces()
	per := spansPerBatch / resources
	for r := 0; r < resources; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		a := rs.Resource().Attributes()
		a.PutStr("service.name", "svc-"+strconv.Itoa(r))
		a.PutStr("container.id", benchContainerID(r))
		a.PutInt("process.pid", int64(1000+r))
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		spans.EnsureCapacity(per)
		for s := 0; s < per; s++ {
			sp := spans.AppendEmpty()
			sp.SetName("op")
			sp.Attributes().PutStr("http.route", "/x")
		}
	}
	return td
}

func benchContainerID(r int) string { return fmt.Sprintf("%064x", r+1) }

// benchRegistry holds one wasm instance per container, as the wasm_runtime receiver would.
func benchRegistry(resources int) *inventory.Inventory {
	reg := inventory.Static(nil)
	ins := make([]ri, resources)
	for r := range ins {
		ins[r] = ri{Key: strconv.Itoa(r), Kind: catalog.KindWasm, Runtime: "wasmtime",
			Pids: []int{1000 + r}, ContainerID: benchContainerID(r)}
	}
	publish(reg, ins)
	return reg
}

// insertedByUs counts the attributes our processor adds to a resource on a cache hit, so that
// the stock processor is asked to insert exactly as many.
func insertedByUs(b *testing.B, p processor.Traces) int {
	td := benchBatch(1)
	before := td.ResourceSpans().At(0).Resource().Attributes().Len()
	require.NoError(b, p.ConsumeTraces(context.Background(), td))
	return td.ResourceSpans().At(0).Resource().Attributes().Len() - before
}

func newOurs(b *testing.B, resources int, layers bool) processor.Traces {
	cfg := createDefaultConfig().(*Config)
	cfg.RootPath = benchFixtureRoot(b)
	cfg.ResourceAttributes.VirtualizationLayers.Enabled = layers
	set := processortest.NewNopSettings(Type)
	vp, err := newVirtProcessorWithCPUID(cfg, set, fixtureCPU(b))
	require.NoError(b, err)
	vp.inv.Store(benchRegistry(resources))
	p, err := processorhelperTraces(set, cfg, vp)
	require.NoError(b, err)
	require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func newStockResource(b *testing.B, n int) processor.Traces {
	f := resourceprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	actions := make([]any, n)
	for i := range actions {
		actions[i] = map[string]any{"key": "bench.attr." + strconv.Itoa(i), "value": "value-" + strconv.Itoa(i), "action": "insert"}
	}
	require.NoError(b, confmap.NewFromStringMap(map[string]any{"attributes": actions}).Unmarshal(cfg))
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(component.MustNewType("resource")), cfg, consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// batchCopies are processed between two stops of the timer: stopping it costs a stop-the-world
// memory-statistics read, which would otherwise dominate the wall time of -benchtime=1s runs.
const batchCopies = 8

// runBatches times ConsumeTraces on a few identical batches again and again, removing what the
// processor inserted between rounds (not timed, not counted), so that the processor always does
// its full work and no batch copy pollutes the measurement. It reports ns/span and allocs/span.
func runBatches(b *testing.B, p processor.Traces, resources int) {
	batches := make([]ptrace.Traces, batchCopies)
	for i := range batches {
		batches[i] = benchBatch(resources)
	}
	original := map[string]bool{"service.name": true, "container.id": true, "process.pid": true}
	reset := func(td ptrace.Traces) {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			rss.At(i).Resource().Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return !original[k] })
		}
	}
	var ms runtime.MemStats
	var mallocs uint64
	b.ResetTimer()
	b.StopTimer()
	for done := 0; done < b.N; {
		n := min(batchCopies, b.N-done)
		for _, td := range batches[:n] {
			reset(td)
		}
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		b.StartTimer()
		for _, td := range batches[:n] {
			if err := p.ConsumeTraces(context.Background(), td); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		done += n
	}
	spans := float64(b.N) * spansPerBatch
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
	b.ReportMetric(float64(mallocs)/spans, "allocs/span")
	b.ReportMetric(float64(mallocs)/float64(b.N)/float64(resources), "allocs/resource")
}

// BenchmarkProcessors compares this processor on a cache hit with the stock contrib resource
// processor inserting the same number of attributes, on the same batches, in the same run.
func BenchmarkProcessors(b *testing.B) {
	for _, resources := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("resources=%d/virtualization_attributes", resources), func(b *testing.B) {
			runBatches(b, newOurs(b, resources, true), resources)
		})
		b.Run(fmt.Sprintf("resources=%d/resource", resources), func(b *testing.B) {
			n := insertedByUs(b, newOurs(b, 1, true))
			runBatches(b, newStockResource(b, n), resources)
		})
		// The virtualization.layers array costs more than a string (pdata allocates the array
		// and each element): the same run without it shows that cost apart.
		b.Run(fmt.Sprintf("resources=%d/virtualization_attributes_without_layers", resources), func(b *testing.B) {
			runBatches(b, newOurs(b, resources, false), resources)
		})
		b.Run(fmt.Sprintf("resources=%d/resource_same_count", resources), func(b *testing.B) {
			n := insertedByUs(b, newOurs(b, 1, false))
			runBatches(b, newStockResource(b, n), resources)
		})
	}
}
