package metadata

import (
	"fmt"
	"sort"
	"strings"
)

// MetricConfig enables or disables one metric.
type MetricConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// ResourceAttributeConfig enables or disables one resource attribute.
type ResourceAttributeConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// MetricsConfig maps a metric name to its setting (metrics::<name>::enabled).
type MetricsConfig map[string]MetricConfig

// ResourceAttributesConfig maps a resource attribute name to its setting.
type ResourceAttributesConfig map[string]ResourceAttributeConfig

// DefaultMetricsConfig enables the metrics metadata.yaml marks enabled.
func DefaultMetricsConfig() MetricsConfig {
	c := make(MetricsConfig, NumMetrics)
	for _, d := range Metrics {
		c[d.Name] = MetricConfig{Enabled: d.EnabledByDefault}
	}
	return c
}

// DefaultResourceAttributesConfig enables the resource attributes metadata.yaml marks enabled.
func DefaultResourceAttributesConfig() ResourceAttributesConfig {
	c := make(ResourceAttributesConfig, len(ResourceAttributes))
	for n, e := range ResourceAttributes {
		c[n] = ResourceAttributeConfig{Enabled: e}
	}
	return c
}

// Validate rejects names that are not in metadata.yaml (a typo would otherwise be ignored).
func (c MetricsConfig) Validate() error {
	for name := range c {
		if _, ok := MetricByName(name); !ok {
			return fmt.Errorf("metrics::%s: unknown metric; known metrics: %s", name, strings.Join(metricNames(), ", "))
		}
	}
	return nil
}

// Validate rejects unknown resource attribute names.
func (c ResourceAttributesConfig) Validate() error {
	for name := range c {
		if _, ok := ResourceAttributes[name]; !ok {
			names := make([]string, 0, len(ResourceAttributes))
			for n := range ResourceAttributes {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("resource_attributes::%s: unknown resource attribute; known: %s", name, strings.Join(names, ", "))
		}
	}
	return nil
}

// Enabled resolves the configuration into a lookup by MetricID; names missing from c keep
// their default.
func (c MetricsConfig) Enabled() [NumMetrics]bool {
	var out [NumMetrics]bool
	for i, d := range Metrics {
		out[i] = d.EnabledByDefault
		if mc, ok := c[d.Name]; ok {
			out[i] = mc.Enabled
		}
	}
	return out
}

// MetricByName returns the id of a metric.
func MetricByName(name string) (MetricID, bool) {
	for i, d := range Metrics {
		if d.Name == name {
			return MetricID(i), true
		}
	}
	return 0, false
}

func metricNames() []string {
	out := make([]string, 0, NumMetrics)
	for _, d := range Metrics {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}
