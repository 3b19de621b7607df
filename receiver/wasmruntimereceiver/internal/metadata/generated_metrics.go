// Code written by hand in the shape mdatagen generates from ../../metadata.yaml; the test in
// this package checks that both agree.

package metadata

import "go.opentelemetry.io/collector/component"

// Type is the component type.
var Type = component.MustNewType("wasm_runtime")

// ScopeName is the instrumentation scope of the metrics.
const ScopeName = "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver"

// MetricID indexes Metrics.
type MetricID int

// Metric ids, in metadata.yaml order.
const (
	ContainerCPUTime MetricID = iota
	ContainerCPUUsage
	ProcessCPUTime
	WasmRuntimeCPUUsage
	WasmRuntimeCPULimit
	WasmRuntimeCPULimitUtilization
	WasmRuntimeCPUPeriods
	WasmRuntimeCPUThrottledPeriods
	WasmRuntimeCPUThrottledTime
	ContainerMemoryUsage
	ContainerMemoryWorkingSet
	ContainerMemoryRss
	ProcessMemoryUsage
	ProcessMemoryVirtual
	WasmRuntimeMemoryPeak
	WasmRuntimeMemoryLimit
	WasmRuntimeMemoryLimitUtilization
	WasmRuntimeMemoryOOMEvents
	WasmRuntimeMemoryOOMKills
	WasmRuntimePidsCurrent
	WasmRuntimePidsLimit
	WasmRuntimeLimitConfigured
	ContainerDiskIO
	WasmRuntimeDiskOperations
	ContainerNetworkIO
	WasmRuntimePressureStallTime
	ProcessThreadCount
	ProcessUnixFileDescriptorCount
	WasmRuntimeFileDescriptorLimit
	WasmRuntimeFileDescriptorLimitUtilization
	WasmRuntimeConnectionCount
	ProcessContextSwitches
	ProcessPagingFaults
	ContainerUptime
	ProcessUptime
	WasmRuntimeScrapeInstances
	WasmRuntimeScrapeFileReads
	WasmRuntimeScrapeErrors
	NumMetrics
)

// MetricKind is the data type of a metric.
type MetricKind int

// Metric kinds.
const (
	Gauge MetricKind = iota
	Sum
)

// MetricDef describes one metric of metadata.yaml.
type MetricDef struct {
	Name, Description, Unit string
	Kind                    MetricKind
	Double                  bool
	Monotonic               bool
	EnabledByDefault        bool
}

// Metrics are the metric definitions indexed by MetricID.
var Metrics = [NumMetrics]MetricDef{
	ContainerCPUTime:                          {Name: "container.cpu.time", Description: "CPU time consumed by the instance's cgroup.", Unit: "s", Kind: Sum, Double: true, Monotonic: true, EnabledByDefault: true},
	ContainerCPUUsage:                         {Name: "container.cpu.usage", Description: "CPUs used by the instance's cgroup, averaged over the last collection interval (1.0 is one full core).", Unit: "{cpu}", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	ProcessCPUTime:                            {Name: "process.cpu.time", Description: "CPU time of the instance's processes (summed over the tree).", Unit: "s", Kind: Sum, Double: true, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeCPUUsage:                       {Name: "wasm_runtime.cpu.usage", Description: "CPUs used by the instance, for every grouping, averaged over the last collection interval.", Unit: "{cpu}", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeCPULimit:                       {Name: "wasm_runtime.cpu.limit", Description: "CPU limit in CPUs (cfs quota / period, cpu.max). Not reported when unlimited.", Unit: "{cpu}", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeCPULimitUtilization:            {Name: "wasm_runtime.cpu.limit.utilization", Description: "wasm_runtime.cpu.usage divided by wasm_runtime.cpu.limit. Not reported when unlimited.", Unit: "1", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeCPUPeriods:                     {Name: "wasm_runtime.cpu.periods", Description: "CFS enforcement periods that elapsed while the instance was runnable.", Unit: "{period}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeCPUThrottledPeriods:            {Name: "wasm_runtime.cpu.throttled_periods", Description: "CFS periods in which the instance was throttled.", Unit: "{period}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeCPUThrottledTime:               {Name: "wasm_runtime.cpu.throttled_time", Description: "Total time the instance was throttled.", Unit: "s", Kind: Sum, Double: true, Monotonic: true, EnabledByDefault: true},
	ContainerMemoryUsage:                      {Name: "container.memory.usage", Description: "Memory charged to the cgroup (memory.current, memory.usage_in_bytes), page cache included.", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	ContainerMemoryWorkingSet:                 {Name: "container.memory.working_set", Description: "Usage minus inactive file cache, what the OOM killer and kubelet eviction look at.", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	ContainerMemoryRss:                        {Name: "container.memory.rss", Description: "Anonymous memory of the cgroup (anon on v2, total_rss on v1).", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	ProcessMemoryUsage:                        {Name: "process.memory.usage", Description: "Resident set size of the instance's processes (summed over the tree).", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	ProcessMemoryVirtual:                      {Name: "process.memory.virtual", Description: "Virtual memory size of the instance's processes (summed over the tree).", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: false},
	WasmRuntimeMemoryPeak:                     {Name: "wasm_runtime.memory.peak", Description: "Peak memory usage of the cgroup (memory.peak, memory.max_usage_in_bytes).", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: false},
	WasmRuntimeMemoryLimit:                    {Name: "wasm_runtime.memory.limit", Description: "Memory limit (memory.max, memory.limit_in_bytes). Not reported when unlimited.", Unit: "By", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeMemoryLimitUtilization:         {Name: "wasm_runtime.memory.limit.utilization", Description: "Memory in use divided by wasm_runtime.memory.limit (container.memory.working_set for cgroup-backed instances, process.memory.usage for process trees). Not reported when unlimited.", Unit: "1", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeMemoryOOMEvents:                {Name: "wasm_runtime.memory.oom.events", Description: "Times the cgroup hit its memory limit and the OOM path ran (memory.events oom; v1 failcnt is not used).", Unit: "{event}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeMemoryOOMKills:                 {Name: "wasm_runtime.memory.oom.kills", Description: "Processes of the cgroup killed by the OOM killer (memory.events oom_kill, v1 memory.oom_control oom_kill).", Unit: "{process}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimePidsCurrent:                    {Name: "wasm_runtime.pids.current", Description: "Tasks (threads included) in the cgroup.", Unit: "{task}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimePidsLimit:                      {Name: "wasm_runtime.pids.limit", Description: "Task limit of the cgroup (pids.max). Not reported when unlimited.", Unit: "{task}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeLimitConfigured:                {Name: "wasm_runtime.limit.configured", Description: "1 when a limit of the resource applies to the instance, 0 when it is unlimited.", Unit: "1", Kind: Gauge, Double: false, Monotonic: false, EnabledByDefault: true},
	ContainerDiskIO:                           {Name: "container.disk.io", Description: "Bytes read and written to block devices by the cgroup (io.stat, blkio.throttle.io_service_bytes).", Unit: "By", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeDiskOperations:                 {Name: "wasm_runtime.disk.operations", Description: "Block I/O operations of the cgroup (io.stat rios/wios, blkio.throttle.io_serviced).", Unit: "{operation}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: false},
	ContainerNetworkIO:                        {Name: "container.network.io", Description: "Bytes received and sent on the non-loopback interfaces of the instance's network namespace (/proc/<pid>/net/dev). Only for instances in a network namespace of their own; one extra read per instance.", Unit: "By", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: false},
	WasmRuntimePressureStallTime:              {Name: "wasm_runtime.pressure.stall_time", Description: "Total time tasks of the cgroup were stalled on the resource (cpu.pressure, memory.pressure, io.pressure \"total\").", Unit: "s", Kind: Sum, Double: true, Monotonic: true, EnabledByDefault: false},
	ProcessThreadCount:                        {Name: "process.thread.count", Description: "Threads of the instance's processes.", Unit: "{thread}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	ProcessUnixFileDescriptorCount:            {Name: "process.unix.file_descriptor.count", Description: "Open file descriptors of the instance's processes.", Unit: "{file_descriptor}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeFileDescriptorLimit:            {Name: "wasm_runtime.file_descriptor.limit", Description: "Soft RLIMIT_NOFILE of the main process. Not reported when unlimited.", Unit: "{file_descriptor}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeFileDescriptorLimitUtilization: {Name: "wasm_runtime.file_descriptor.limit.utilization", Description: "Highest ratio, over the instance's processes, of open file descriptors to the soft RLIMIT_NOFILE.", Unit: "1", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeConnectionCount:                {Name: "wasm_runtime.connection.count", Description: "TCP sockets owned by the instance's processes, by state (IPv4 and IPv6). Costs one readlink per descriptor.", Unit: "{connection}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: false},
	ProcessContextSwitches:                    {Name: "process.context_switches", Description: "Context switches of the instance's processes.", Unit: "{context_switch}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: false},
	ProcessPagingFaults:                       {Name: "process.paging.faults", Description: "Page faults of the instance's processes.", Unit: "{fault}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	ContainerUptime:                           {Name: "container.uptime", Description: "Time since the instance's main process started (cgroup-backed instances).", Unit: "s", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	ProcessUptime:                             {Name: "process.uptime", Description: "Time since the instance's main process started (process-tree instances).", Unit: "s", Kind: Gauge, Double: true, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeScrapeInstances:                {Name: "wasm_runtime.scrape.instances", Description: "Instances discovered in the last scrape.", Unit: "{instance}", Kind: Sum, Double: false, Monotonic: false, EnabledByDefault: true},
	WasmRuntimeScrapeFileReads:                {Name: "wasm_runtime.scrape.file_reads", Description: "Files opened and read (or directories listed) by the receiver, discovery included.", Unit: "{read}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
	WasmRuntimeScrapeErrors:                   {Name: "wasm_runtime.scrape.errors", Description: "Reads that failed, by reason. A vanished process or cgroup is expected churn; permission and malformed are not. cgroup_namespace counts cgroup paths, read in the collector's own cgroup namespace, that could not be mapped to the mounted hierarchy (see the README).", Unit: "{error}", Kind: Sum, Double: false, Monotonic: true, EnabledByDefault: true},
}

// Resource attribute names.
const (
	ResWasmRuntimeInstanceID       = "wasm_runtime.instance.id"
	ResWasmRuntimeInstanceKind     = "wasm_runtime.instance.kind"
	ResWasmRuntimeInstanceGrouping = "wasm_runtime.instance.grouping"
	ResWasmRuntimeRuntime          = "wasm_runtime.runtime"
	ResWasmRuntimeVMM              = "wasm_runtime.vmm"
	ResWasmRuntimeVMName           = "wasm_runtime.vm.name"
	ResWasmRuntimeVMID             = "wasm_runtime.vm.id"
	ResWasmRuntimeVMVCPUs          = "wasm_runtime.vm.vcpus"
	ResWasmRuntimeVMMemorySize     = "wasm_runtime.vm.memory_size"
	ResWasmRuntimeWasmModule       = "wasm_runtime.wasm.module"
	ResWasmRuntimeCgroupPath       = "wasm_runtime.cgroup.path"
	ResWasmRuntimeCgroupVersion    = "wasm_runtime.cgroup.version"
	ResWasmRuntimeLimitsConfigured = "wasm_runtime.limits.configured"
	ResWasmRuntimeK8sPodQoS        = "wasm_runtime.k8s.pod.qos"
	ResContainerID                 = "container.id"
	ResContainerRuntimeName        = "container.runtime.name"
	ResK8sPodUID                   = "k8s.pod.uid"
	ResProcessPID                  = "process.pid"
	ResProcessExecutableName       = "process.executable.name"
)

// ResourceAttributes lists every resource attribute with its default enablement.
var ResourceAttributes = map[string]bool{
	ResWasmRuntimeInstanceID:       true,
	ResWasmRuntimeInstanceKind:     true,
	ResWasmRuntimeInstanceGrouping: true,
	ResWasmRuntimeRuntime:          true,
	ResWasmRuntimeVMM:              true,
	ResWasmRuntimeVMName:           true,
	ResWasmRuntimeVMID:             true,
	ResWasmRuntimeVMVCPUs:          true,
	ResWasmRuntimeVMMemorySize:     true,
	ResWasmRuntimeWasmModule:       true,
	ResWasmRuntimeCgroupPath:       true,
	ResWasmRuntimeCgroupVersion:    true,
	ResWasmRuntimeLimitsConfigured: true,
	ResWasmRuntimeK8sPodQoS:        true,
	ResContainerID:                 true,
	ResContainerRuntimeName:        true,
	ResK8sPodUID:                   true,
	ResProcessPID:                  true,
	ResProcessExecutableName:       true,
}

// Data point attribute names.
const (
	AttrCPUMode                  = "cpu.mode"
	AttrDiskIODirection          = "disk.io.direction"
	AttrSystemPagingFaultType    = "system.paging.fault.type"
	AttrProcessContextSwitchType = "process.context_switch.type"
	AttrLimitResource            = "wasm_runtime.limit.resource"
	AttrPressureResource         = "wasm_runtime.pressure.resource"
	AttrPressureScope            = "wasm_runtime.pressure.scope"
	AttrNetworkIODirection       = "network.io.direction"
	AttrNetworkTransport         = "network.transport"
	AttrConnectionState          = "wasm_runtime.connection.state"
	AttrErrorReason              = "wasm_runtime.error.reason"
)
