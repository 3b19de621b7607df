package wasmruntimereceiver

import (
	"errors"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// recordKVM sums the statistics of the VMs a VMM created (one, unless it recreated its VM).
// A QMP answer for the same VMM is preferred: it is the same counters, read without debugfs.
func (s *scraperImpl) recordKVM(kvms []vmstats.KVMVM, ts pcommon.Timestamp) {
	var sum vmstats.KVMStats
	for i := range kvms {
		ks, err := vmstats.ReadKVMStats(s.r, &kvms[i])
		if errors.Is(err, vmstats.ErrLockdown) {
			s.vm.sources.kvmOff = true
			s.errs.Count(linuxfs.Permission, err)
			s.logger.Warn("vm.kvm_debugfs: the kernel refuses KVM's debugfs statistics (lockdown); not trying again, disable vm.kvm_debugfs", zap.Error(err))
			return
		}
		if err != nil {
			s.errs.Fail(err)
			return
		}
		sum.Add(&ks)
	}
	recordKVMStats(s.mb, &sum, ts)
}

// recordKVMStats records a VM's KVM statistics, from debugfs or QMP.
func recordKVMStats(mb *m.MetricsBuilder, sum *vmstats.KVMStats, ts pcommon.Timestamp) {
	mb.RecordWasmRuntimeVMKvmExitsDataPoint(ts, int64(sum.Exits))
	mb.RecordWasmRuntimeVMKvmHaltExitsDataPoint(ts, int64(sum.HaltExits))
	mb.RecordWasmRuntimeVMKvmHaltPollsDataPoint(ts, int64(sum.HaltSuccessfulPoll), m.AttributeVMKvmPollResultSuccess)
	mb.RecordWasmRuntimeVMKvmHaltPollsDataPoint(ts, int64(sum.HaltAttemptedPoll), m.AttributeVMKvmPollResultAttempted)
	mb.RecordWasmRuntimeVMKvmHaltPollsDataPoint(ts, int64(sum.HaltPollInvalid), m.AttributeVMKvmPollResultInvalid)
	mb.RecordWasmRuntimeVMKvmHaltPollTimeDataPoint(ts, float64(sum.HaltPollSuccessNS)/1e9, m.AttributeVMKvmPollResultSuccess)
	mb.RecordWasmRuntimeVMKvmHaltPollTimeDataPoint(ts, float64(sum.HaltPollFailNS)/1e9, m.AttributeVMKvmPollResultFail)
	mb.RecordWasmRuntimeVMKvmHaltWaitTimeDataPoint(ts, float64(sum.HaltWaitNS)/1e9)
}
