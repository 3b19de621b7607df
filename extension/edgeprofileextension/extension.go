package edgeprofileextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

type edgeProfile struct {
	cfg      *Config
	settings extension.Settings
}

func newEdgeProfile(cfg *Config, set extension.Settings) *edgeProfile {
	return &edgeProfile{cfg: cfg, settings: set}
}

func (e *edgeProfile) Start(context.Context, component.Host) error { return nil }

func (e *edgeProfile) Shutdown(context.Context) error { return nil }
