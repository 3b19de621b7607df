package vmmargs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// MaxFirecrackerConfig bounds a --config-file read. A VM's configuration (drives, network
// interfaces, boot arguments, a CPU template) takes a few KiB; Firecracker itself reads the
// whole file, but a file is read here only to learn three values.
const MaxFirecrackerConfig = 1 << 20

const maxFirecrackerVCPUs = 32

// FirecrackerConfig is what a Firecracker --config-file says about the VM that is reported:
// its size and its metrics file. Zero values are unset.
type FirecrackerConfig struct {
	VCPUs       int64
	MemoryBytes int64
	MetricsPath string
}

// ParseFirecrackerConfig reads the JSON of a --config-file as Firecracker's VmmConfig
// (firecracker-microvm/firecracker src/vmm/src/resources.rs, commit
// 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab: top-level keys in kebab-case, "machine-config" a
// MachineConfig of src/vmm/src/vmm_config/machine_config.rs with vcpu_count (u8) and
// mem_size_mib, "metrics" a MetricsConfig of src/vmm/src/vmm_config/metrics.rs with
// metrics_path). Only those fields are decoded; the rest of the document is checked to be JSON
// and otherwise ignored. The file is the orchestrator's, but it lives in the VMM's tree: a
// value out of the range Firecracker accepts is refused as malformed, not reported.
func ParseFirecrackerConfig(data []byte) (FirecrackerConfig, error) {
	if len(data) > MaxFirecrackerConfig {
		return FirecrackerConfig{}, malformed("config file of %d bytes, more than %d", len(data), MaxFirecrackerConfig)
	}
	var doc struct {
		Machine *struct {
			VCPUCount  *json.RawMessage `json:"vcpu_count"`
			MemSizeMiB *json.RawMessage `json:"mem_size_mib"`
		} `json:"machine-config"`
		Metrics *struct {
			MetricsPath *string `json:"metrics_path"`
		} `json:"metrics"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return FirecrackerConfig{}, fmt.Errorf("%w: config file: %v", linuxfs.ErrMalformed, err)
	}
	if dec.More() {
		return FirecrackerConfig{}, malformed("config file: data after the JSON document")
	}
	var c FirecrackerConfig
	if m := doc.Machine; m != nil {
		if m.VCPUCount != nil {
			// MachineConfig::vcpu_count is a u8 that Firecracker validates to
			// 1..=MAX_SUPPORTED_VCPUS (32, machine_config.rs).
			n, err := jsonInteger(*m.VCPUCount)
			if err != nil || n < 1 || n > maxFirecrackerVCPUs {
				return FirecrackerConfig{}, malformed("config file: machine-config.vcpu_count %.32s, not a vCPU count (1 to %d)", *m.VCPUCount, maxFirecrackerVCPUs)
			}
			c.VCPUs = n
		}
		if m.MemSizeMiB != nil {
			n, err := jsonInteger(*m.MemSizeMiB)
			if err != nil || n < 1 || n > math.MaxInt64>>20 {
				return FirecrackerConfig{}, malformed("config file: machine-config.mem_size_mib %.32s, not a size in MiB", *m.MemSizeMiB)
			}
			c.MemoryBytes = n << 20
		}
	}
	if doc.Metrics != nil && doc.Metrics.MetricsPath != nil {
		p, err := checkPath("config file metrics.metrics_path", *doc.Metrics.MetricsPath)
		if err != nil {
			return FirecrackerConfig{}, err
		}
		c.MetricsPath = p
	}
	return c, nil
}

// jsonInteger is a JSON integer literal, as serde_json reads one into an unsigned field: a
// string, a fraction or an exponent is not one.
func jsonInteger(raw json.RawMessage) (int64, error) {
	return strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
}
