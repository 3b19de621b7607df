package threat

import "math"

// Sample is what the receiver measured of one instance in one scrape. Measurements it could not
// take are Unknown (NaN) for ratios and rates, and -1 for counts; a rule whose measurement is
// unknown keeps its state until the measurement comes back.
type Sample struct {
	// Key identifies the instance across scrapes (wasm_runtime.instance.id).
	Key string
	// Resource holds the instance's resource attributes, put on its events as they are.
	Resource map[string]any

	// CPUUtilization is the CPU used over the last interval divided by the instance's CPU limit
	// (cfs quota / period, cpu.max), or by one core when it has no CPU limit.
	CPUUtilization float64
	// MemoryUtilization is the memory in use divided by the memory limit; Unknown when unlimited.
	MemoryUtilization float64
	// OOMKills is the cumulative number of processes of the instance the OOM killer killed.
	OOMKills int64
	// FileDescriptors is the number of open file descriptors of the instance's processes.
	FileDescriptors int64
	// FileCreationRate is how many files per second the instance created over the last interval.
	FileCreationRate float64
	// TCPConnections is the number of TCP sockets the instance's processes own.
	TCPConnections int64
	// Limits tells which limits apply to the instance; nil when the receiver cannot tell.
	Limits *Limits
	// LinearMemoryReads are the reads of the instance's Wasm runtime processes' mappings at
	// this scrape; nil on the scrapes that do not read them (linear_memory.every).
	LinearMemoryReads []LinearMemoryRead
}

// Limits are the resource limits configured for an instance.
type Limits struct {
	CPU    bool
	Memory bool
	PIDs   bool
}

// Unknown is the value of a ratio or a rate that could not be measured.
var Unknown = math.NaN()

// NewSample returns a sample of key with every measurement unknown.
func NewSample(key string, resource map[string]any) Sample {
	return Sample{
		Key:               key,
		Resource:          resource,
		CPUUtilization:    Unknown,
		MemoryUtilization: Unknown,
		OOMKills:          -1,
		FileDescriptors:   -1,
		FileCreationRate:  Unknown,
		TCPConnections:    -1,
	}
}
