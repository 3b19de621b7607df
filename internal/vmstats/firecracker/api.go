package firecracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/unixapi"
)

// The API Firecracker serves on --api-sock (firecracker-microvm/firecracker, commit
// 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab: src/firecracker/src/api_server/parsed_request.rs
// routes GET / to the instance information and GET /machine-config to the machine
// configuration, each answered as serde_json of its struct). A VM started by
// firecracker-containerd, Kata or any orchestrator is sized through PUT /machine-config, so
// its command line says nothing of its vCPUs or memory.

// MachineConfig is what GET /machine-config answers of the VM's size
// (src/vmm/src/vmm_config/machine_config.rs MachineConfig: vcpu_count u8, mem_size_mib usize).
// PUT /machine-config is refused once the VM started (rpc_interface.rs,
// OperationNotSupportedPostBoot), so a started VM's answer does not change.
type MachineConfig struct {
	VCPUs      uint8  `json:"vcpu_count"`
	MemSizeMiB uint64 `json:"mem_size_mib"`
}

// InstanceInfo is GET / (src/vmm/src/vmm_config/instance_info.rs InstanceInfo).
type InstanceInfo struct {
	ID    string `json:"id"`
	State string `json:"state"` // VmState's Display: "Not started", "Running", "Paused"
	// VMMVersion is the Firecracker version that runs the VM.
	VMMVersion string `json:"vmm_version"`
	AppName    string `json:"app_name"`
}

// Started reports whether the VM has left "Not started" (its machine configuration is fixed).
func (i InstanceInfo) Started() bool { return i.State == "Running" || i.State == "Paused" }

// InstanceStates are VmState's Display strings.
var InstanceStates = [...]string{"Not started", "Running", "Paused"}

// maxMemSizeMiB keeps mem_size_mib × MiB within int64.
const maxMemSizeMiB = 1<<(63-20) - 1

// DefaultMaxAPIBody bounds an answer when APIClient.MaxBodyBytes is 0: both are under 200
// bytes.
const DefaultMaxAPIBody = 64 << 10

// maxIDBytes bounds the strings kept from the answer (the id is at most 64 characters,
// src/vmm/src/vmm_config/instance_info.rs via the jailer's and main.rs's checks).
const maxIDBytes = 256

func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

// ParseMachineConfig decodes a GET /machine-config body; a count or size that does not fit
// Firecracker's types (or bytes in an int64) is refused.
func ParseMachineConfig(body []byte) (MachineConfig, error) {
	var raw struct {
		VCPUs      *uint8  `json:"vcpu_count"`
		MemSizeMiB *uint64 `json:"mem_size_mib"`
	}
	if err := decodeOne(body, &raw); err != nil {
		return MachineConfig{}, fmt.Errorf("machine-config: %w", err)
	}
	if raw.VCPUs == nil || raw.MemSizeMiB == nil {
		return MachineConfig{}, errors.New("machine-config: no vcpu_count or mem_size_mib")
	}
	if *raw.MemSizeMiB > maxMemSizeMiB {
		return MachineConfig{}, fmt.Errorf("machine-config: mem_size_mib %d past 2^63 bytes", *raw.MemSizeMiB)
	}
	return MachineConfig{VCPUs: *raw.VCPUs, MemSizeMiB: *raw.MemSizeMiB}, nil
}

// ParseInstanceInfo decodes a GET / body, refusing a state VmState does not have.
func ParseInstanceInfo(body []byte) (InstanceInfo, error) {
	var info InstanceInfo
	if err := decodeOne(body, &info); err != nil {
		return InstanceInfo{}, fmt.Errorf("instance info: %w", err)
	}
	known := false
	for _, s := range InstanceStates {
		known = known || info.State == s
	}
	if !known {
		return InstanceInfo{}, fmt.Errorf("instance info: unknown state %q", info.State)
	}
	if len(info.ID) > maxIDBytes || len(info.VMMVersion) > maxIDBytes || len(info.AppName) > maxIDBytes {
		return InstanceInfo{}, errors.New("instance info: a field past 256 bytes")
	}
	return info, nil
}

// APIClient asks one Firecracker's API socket.
type APIClient struct {
	Socket       string
	Timeout      time.Duration // 0: 2 s
	MaxBodyBytes int64         // 0: DefaultMaxAPIBody
	// Dial, when set, connects inside the VMM's root (vmmargs.Root.DialUnix).
	Dial func(ctx context.Context) (net.Conn, error)
}

func (c APIClient) get(ctx context.Context, path string) ([]byte, error) {
	max := c.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxAPIBody
	}
	body, err := unixapi.Client{Socket: c.Socket, Timeout: c.Timeout, MaxBodyBytes: max, Dial: c.Dial}.Get(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("firecracker %w", err)
	}
	return body, nil
}

// MachineConfig performs GET /machine-config.
func (c APIClient) MachineConfig(ctx context.Context) (MachineConfig, error) {
	body, err := c.get(ctx, "/machine-config")
	if err != nil {
		return MachineConfig{}, err
	}
	return ParseMachineConfig(body)
}

// InstanceInfo performs GET /.
func (c APIClient) InstanceInfo(ctx context.Context) (InstanceInfo, error) {
	body, err := c.get(ctx, "/")
	if err != nil {
		return InstanceInfo{}, err
	}
	return ParseInstanceInfo(body)
}
