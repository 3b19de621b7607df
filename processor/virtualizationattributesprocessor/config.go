package virtualizationattributesprocessor

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Config is the virtualization_attributes processor configuration.
type Config struct {
	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet).
	RootPath string `mapstructure:"root_path"`
	// RefreshInterval is how often host detection is repeated; 0 detects once at start.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// Override replaces attributes the application already set; by default they are kept.
	Override bool `mapstructure:"override"`

	_ struct{}
}

// Validate checks the configuration and names the offending field in every error.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.RootPath != "" && !filepath.IsAbs(cfg.RootPath) {
		errs = append(errs, fmt.Errorf("root_path: must be an absolute path, got %q (e.g. root_path: /hostfs)", cfg.RootPath))
	}
	if cfg.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("refresh_interval: must not be negative, got %s (use 0 to detect once at start)", cfg.RefreshInterval))
	}
	return errors.Join(errs...)
}
