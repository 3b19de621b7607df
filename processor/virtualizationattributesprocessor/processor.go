package virtualizationattributesprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
)

type virtProcessor struct {
	cfg      *Config
	settings processor.Settings
}

func newVirtProcessor(cfg *Config, set processor.Settings) *virtProcessor {
	return &virtProcessor{cfg: cfg, settings: set}
}

func (p *virtProcessor) start(context.Context, component.Host) error { return nil }

func (p *virtProcessor) shutdown(context.Context) error { return nil }

func (p *virtProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	return td, nil
}

func (p *virtProcessor) processMetrics(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	return md, nil
}

func (p *virtProcessor) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	return ld, nil
}
