package wasmruntimereceiver

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// deviceInfo is what /sys/dev/block tells about a device number.
type deviceInfo struct {
	name string
	// member is true for a device another block device is stacked on (a disk under
	// device-mapper or md): its I/O is also counted on the device above, so only the top of
	// each stack is reported.
	member bool
	at     time.Time
}

type deviceNames map[cgroup.Device]deviceInfo

// deviceRefresh paces re-reading /sys/dev/block for a device (a new LVM volume on a disk).
const deviceRefresh = 5 * time.Minute

func (s *scraperImpl) device(d cgroup.Device, now time.Time) deviceInfo {
	if s.devices == nil {
		s.devices = deviceNames{}
	}
	if di, ok := s.devices[d]; ok && now.Sub(di.at) < deviceRefresh {
		return di
	}
	num := strconv.FormatUint(uint64(d.Major), 10) + ":" + strconv.FormatUint(uint64(d.Minor), 10)
	di := deviceInfo{name: num, at: now}
	sysDev := filepath.Join(s.rootPath(), "sys", "dev", "block", num)
	if target, err := os.Readlink(sysDev); err == nil {
		di.name = filepath.Base(target)
	}
	// A partition's holders are under it; a whole disk's under the disk. Either non-empty
	// means a dm or md device is built on it.
	// Each holder is a link to the device built on this one.
	if ents, err := os.ReadDir(filepath.Join(sysDev, "holders")); err == nil {
		for _, e := range ents {
			if e.Type()&os.ModeSymlink != 0 || e.IsDir() {
				di.member = true
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		s.errs.Fail(err)
	}
	if len(s.devices) > 4096 {
		clear(s.devices)
	}
	s.devices[d] = di
	return di
}

func (s *scraperImpl) rootPath() string {
	if s.cfg.RootPath == "" {
		return "/"
	}
	return s.cfg.RootPath
}

// devIO is one device's I/O summed over the instance's cgroups.
type devIO struct {
	name                       string
	rbytes, wbytes, rops, wops uint64
}

// cgroupIO adds one cgroup's per-device I/O to acc (v2 io.stat, v1 blkio throttle files).
func (s *scraperImpl) cgroupIO(paths *cgroup.Paths, acc map[cgroup.Device]*devIO, now time.Time) {
	mount, p, v2, ok := s.hierarchyOf(cgroup.Blkio, paths)
	if !ok || p == "/" {
		return
	}
	dir := s.dirs.Join(mount, p)
	get := func(d cgroup.Device) *devIO {
		di := s.device(d, now)
		if di.member {
			return nil
		}
		e := acc[d]
		if e == nil {
			e = &devIO{name: di.name}
			acc[d] = e
		}
		return e
	}
	if v2 {
		d, ok := s.readStat(dir, "io.stat")
		if !ok {
			return
		}
		if err := cgroup.ScanIOStat(d, func(dev cgroup.Device, st cgroup.IOStat) {
			if e := get(dev); e != nil {
				e.rbytes += st.ReadBytes
				e.wbytes += st.WriteBytes
				e.rops += st.ReadOps
				e.wops += st.WriteOps
			}
		}); err != nil {
			s.errs.Fail(err)
		}
		return
	}
	for _, f := range [...]struct {
		base, recursive string
		ops             bool
	}{{"blkio.throttle.io_service_bytes", "blkio.throttle.io_service_bytes_recursive", false}, {"blkio.throttle.io_serviced", "blkio.throttle.io_serviced_recursive", true}} {
		if f.ops && !s.mb.Enabled("wasm_runtime.disk.operations") {
			continue
		}
		// The _recursive variant includes the sub-cgroups; older kernels only have the other.
		d, err := s.r.ReadCachedAt(dir, f.recursive)
		if err != nil {
			if d, err = s.r.ReadCachedAt(dir, f.base); err != nil {
				s.errs.FailIn(dir, err)
				continue
			}
		}
		if err := cgroup.ScanBlkio(d, func(dev cgroup.Device, r, w uint64) {
			if e := get(dev); e != nil {
				if f.ops {
					e.rops += r
					e.wops += w
				} else {
					e.rbytes += r
					e.wbytes += w
				}
			}
		}); err != nil {
			s.errs.Fail(err)
		}
	}
}

func (s *scraperImpl) recordIO(acc map[cgroup.Device]*devIO, ts pcommon.Timestamp) {
	for _, e := range acc {
		s.mb.RecordContainerDiskIODataPoint(ts, int64(e.rbytes), m.AttributeDiskIODirectionRead, e.name)
		s.mb.RecordContainerDiskIODataPoint(ts, int64(e.wbytes), m.AttributeDiskIODirectionWrite, e.name)
		s.mb.RecordWasmRuntimeDiskOperationsDataPoint(ts, int64(e.rops), m.AttributeDiskIODirectionRead, e.name)
		s.mb.RecordWasmRuntimeDiskOperationsDataPoint(ts, int64(e.wops), m.AttributeDiskIODirectionWrite, e.name)
	}
}

// cgroupPressure records PSI of the main cgroup; it lives in the unified hierarchy, also on
// hybrid hosts.
func (s *scraperImpl) cgroupPressure(paths *cgroup.Paths, ts pcommon.Timestamp) {
	u := s.snap.Layout.Unified
	if !s.mb.Enabled("wasm_runtime.pressure.stall_time") || u == "" || paths.Unified == "" || paths.Unified == "/" {
		return
	}
	dir := s.dirs.Join(u, paths.Unified)
	for _, res := range [...]struct {
		file string
		attr m.AttributePressureResource
	}{{"cpu.pressure", m.AttributePressureResourceCPU}, {"memory.pressure", m.AttributePressureResourceMemory}, {"io.pressure", m.AttributePressureResourceIO}} {
		d, ok := s.readStat(dir, res.file)
		if !ok {
			continue
		}
		p, err := cgroup.ParsePSI(d)
		if err != nil {
			s.errs.Fail(err)
			continue
		}
		s.mb.RecordWasmRuntimePressureStallTimeDataPoint(ts, float64(p.SomeTotalUsec)/1e6, res.attr, m.AttributePressureScopeSome)
		if p.HasFull {
			s.mb.RecordWasmRuntimePressureStallTimeDataPoint(ts, float64(p.FullTotalUsec)/1e6, res.attr, m.AttributePressureScopeFull)
		}
	}
}
