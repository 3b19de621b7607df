package runtimelogs

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
)

// ScopeName is the instrumentation scope of the log records.
const ScopeName = "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/logs"

// NewLogsReceiver builds the stanza pipeline of cfg and returns it as a logs receiver: the
// adapter of pkg/stanza runs it, keeps the file offsets in the storage extension cfg.Storage,
// converts the entries to plog and reports through the receiver's obsreport. set.ID is the
// receiver's id; its type must be the one of the calling factory.
func NewLogsReceiver(ctx context.Context, set receiver.Settings, cfg *Config, resolver Resolver, next consumer.Logs) (receiver.Logs, error) {
	if len(cfg.Sources) == 0 {
		return nil, errors.New("logs.sources: no log source is configured; add one (e.g. runtime: wasmtime, include: [/var/log/wasmtime/*.log]) or remove the receiver from logs pipelines")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ops, err := cfg.Operators(resolver)
	if err != nil {
		return nil, err
	}
	lt := &logReceiverType{typ: set.ID.Type(), ops: ops, storage: cfg.Storage}
	return adapter.NewFactory(lt, component.StabilityLevelDevelopment).CreateLogs(ctx, set, lt, next)
}

// logReceiverType hands a fixed operator list to the stanza adapter; it is its own config.
type logReceiverType struct {
	typ     component.Type
	ops     []operator.Config
	storage *component.ID
}

func (l *logReceiverType) Type() component.Type                  { return l.typ }
func (l *logReceiverType) CreateDefaultConfig() component.Config { return l }
func (l *logReceiverType) ScopeName() string                     { return ScopeName }
func (l *logReceiverType) InputConfig(component.Config) operator.Config {
	return l.ops[0]
}

func (l *logReceiverType) BaseConfig(component.Config) adapter.BaseConfig {
	return adapter.BaseConfig{Operators: l.ops[1:], StorageID: l.storage}
}
