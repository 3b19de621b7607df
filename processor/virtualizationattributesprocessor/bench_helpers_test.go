package virtualizationattributesprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

const benchFixture = "live-firecracker-host"

func benchFixtureRoot(tb testing.TB) string {
	p, err := filepath.Abs(filepath.Join(fixturesDir, benchFixture, "root"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func fixtureCPU(tb testing.TB) virtdetect.CPUID {
	b, err := os.ReadFile(filepath.Join(fixturesDir, benchFixture, "cpuid"))
	if err != nil {
		tb.Fatal(err)
	}
	return virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
}

// processorhelperTraces wraps vp exactly as the factory does, so both processors pay the same
// helper and self-observability costs.
func processorhelperTraces(set processor.Settings, cfg *Config, vp *virtProcessor) (processor.Traces, error) {
	return processorhelper.NewTraces(context.Background(), set, cfg, consumertest.NewNop(), vp.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(vp.start), processorhelper.WithShutdown(vp.shutdown))
}
