package edgeprofileextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

const stability = component.StabilityLevelDevelopment

// Type is the component type of the extension (and of its routing connector).
var Type = component.MustNewType("edge_profile")

// NewFactory returns the factory of the edge_profile extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, createExtension, stability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Profile: ProfileEdge, // explicit; auto only when asked for
		Control: defaultControlConfig(),
		Auto:    AutoConfig{Interval: 30 * time.Second, Confirmations: 3, MinDwell: 5 * time.Minute},

		ReleaseStartupMemory: true,
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newEdgeProfile(cfg.(*Config), set)
}
