// Package scale measures the real otelcol-virt binary over many real instances on the real
// kernel: processes in cgroups of their own with limits, scraped at the default interval. It
// has only a benchmark (scale_test.go); `make bench-scale` runs it.
package scale
