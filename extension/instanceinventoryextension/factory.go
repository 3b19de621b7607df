// Package instanceinventoryextension provides the instance_inventory extension: the one
// inventory of Wasm, VM, sandbox and container instances of a host that every component of the
// collector reads (the wasm_runtime receiver's metrics, threat events and runtime logs, the
// virtualization_attributes processor). Components find it through component.Host.GetExtensions,
// the way they find auth and storage extensions.
package instanceinventoryextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-virt/otelcol-virt/extension/instanceinventoryextension/internal/metadata"
)

// Type is the component type of the extension.
var Type = metadata.Type

// NewFactory returns the factory of the instance_inventory extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{RefreshInterval: 10 * time.Second, MaxOpenFiles: 16384}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
