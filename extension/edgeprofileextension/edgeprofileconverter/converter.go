// Package edgeprofileconverter is the confmap converter that expands the edge_profile extension's
// short profile section into stock pipelines (one per preset and signal), the routing connector's
// configuration and the persistent-queue storage. Register it under `converters:` in the builder
// manifest.
package edgeprofileconverter // import "github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension/edgeprofileconverter"

import (
	"context"

	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
)

type converter struct {
	logger *zap.Logger
}

// NewFactory returns the factory of the edge_profile converter.
func NewFactory() confmap.ConverterFactory {
	return confmap.NewConverterFactory(newConverter)
}

func newConverter(set confmap.ConverterSettings) confmap.Converter {
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &converter{logger: logger}
}

// Convert implements confmap.Converter.
func (c *converter) Convert(_ context.Context, conf *confmap.Conf) error {
	ids, err := edgeprofileextension.ExpandConfig(conf)
	for _, id := range ids {
		c.logger.Debug("edge_profile expanded its presets into pipelines", zap.String("extension", id.String()))
	}
	return err
}
