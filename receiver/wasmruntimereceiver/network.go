package wasmruntimereceiver

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// connStates maps the kernel's TCP state numbers to the metric's attribute values.
var connStates = func() [len(proc.TCPStates)]m.AttributeNetworkConnectionState {
	var out [len(proc.TCPStates)]m.AttributeNetworkConnectionState
	for i, name := range proc.TCPStates {
		out[i] = m.MapAttributeNetworkConnectionState[name]
	}
	return out
}()

// netnsScratch counts the TCP sockets of every instance with one pass over each network
// namespace's tables: instances of one pod (or every process-grouped instance on the host)
// share a namespace, and reading its table once per instance costs O(instances x sockets).
type netnsScratch struct {
	tables map[string]string // namespace -> a member's /proc/<pid>/net/ directory
	owner  map[uint64]int32  // socket inode -> instance slot
	counts [][len(proc.TCPStates)]int64
	slots  map[string]int32 // instance key -> slot
	fds    []int
	mapped int // sockets mapped this scrape: counted ones leave owner, so its len is no measure
}

func (n *netnsScratch) begin() {
	if n.tables == nil {
		n.tables, n.owner, n.slots = map[string]string{}, map[uint64]int32{}, map[string]int32{}
	}
	clear(n.tables)
	clear(n.owner)
	clear(n.slots)
	n.counts = n.counts[:0]
}

// end drops maps a large scrape grew, so that their memory is not kept.
func (n *netnsScratch) end() {
	if n.mapped > 1<<16 {
		n.owner = map[uint64]int32{}
	}
}

// countConnections reads the socket descriptors of the instances' processes (one readlink
// each, which is why the metric is off by default), then each namespace's TCP tables once,
// streamed in bounded memory.
func (s *scraperImpl) countConnections(snap *inventory.Snapshot, kept []int) {
	n := &s.netns
	for _, i := range kept {
		in := &snap.Instances[i]
		slot := int32(len(n.counts))
		n.counts = append(n.counts, [len(proc.TCPStates)]int64{})
		n.slots[in.Key] = slot
		for j := range in.Procs {
			p := &in.Procs[j]
			pc := s.procOf(p)
			ns := s.netnsOf(p, pc)
			if ns == "" {
				continue
			}
			if _, ok := n.tables[ns]; !ok {
				n.tables[ns] = p.Dir + "net/"
			}
			s.collectSocketInodes(p, pc, slot)
		}
	}
	n.mapped = len(n.owner)
	for _, dir := range n.tables {
		for _, f := range [...]string{"tcp", "tcp6"} {
			err := s.r.ScanLines(dir+f, func(line []byte) error {
				state, inode, ok, err := proc.ParseNetTCPLine(line)
				if err != nil || !ok || inode == 0 {
					return err
				}
				// A socket counts once: the table is read in chunks, and each read(2)
				// resumes at a bucket and an offset within it (torvalds/linux
				// net/ipv4/tcp_ipv4.c, tcp_seek_last_pos), so sockets opened or closed
				// meanwhile in that bucket make the kernel print a line twice.
				if slot, ok := n.owner[inode]; ok && int(state) < len(proc.TCPStates) {
					n.counts[slot][state]++
					delete(n.owner, inode)
				}
				return nil
			})
			if err != nil {
				s.errs.Fail(err)
			}
		}
	}
}

// collectSocketInodes maps the socket inodes of a process's descriptors to the instance slot.
func (s *scraperImpl) collectSocketInodes(p *inventory.Process, pc *procCache, slot int32) {
	n := &s.netns
	dir := pc.fdDir + "/"
	var err error
	n.fds, err = s.r.ListNumeric(pc.fdDir, n.fds[:0])
	if err != nil {
		s.errs.Fail(err)
		return
	}
	for _, fd := range n.fds {
		link, err := s.r.ReadlinkInto(dir + strconv.Itoa(fd))
		if err != nil {
			continue // closed since the listing
		}
		if ino, ok := proc.SocketInode(link); ok {
			n.owner[ino] = slot
		}
	}
}

func (s *scraperImpl) recordConnections(in *inventory.Instance, ts pcommon.Timestamp) {
	slot, ok := s.netns.slots[in.Key]
	if !ok {
		return
	}
	var byState [len(proc.TCPStates)]int64
	for st, c := range s.netns.counts[slot] {
		byState[connStates[st]] += c
	}
	for _, v := range m.MapAttributeNetworkConnectionState {
		s.mb.RecordWasmRuntimeConnectionCountDataPoint(ts, byState[v], m.AttributeNetworkTransportTCP, v)
	}
}

// netnsOf reads a process's network namespace link once per process lifetime.
func (s *scraperImpl) netnsOf(p *inventory.Process, pc *procCache) string {
	if !pc.netnsRead {
		pc.netnsRead = true
		ns, err := s.r.Readlink(p.Dir + "ns/net")
		if err != nil {
			s.errs.Fail(err)
		}
		pc.netns = ns
	}
	return pc.netns
}

// networkIO reports the traffic of each interface of the main process's network namespace when
// it has one of its own (the host's counters would say nothing about the instance).
func (s *scraperImpl) networkIO(in *inventory.Instance, ts pcommon.Timestamp) {
	p := in.Main()
	ns := s.netnsOf(p, s.procOf(p))
	if ns == "" || s.snap.HostNetns == "" || ns == s.snap.HostNetns {
		return
	}
	d, err := s.r.ReadCachedMulti(p.Dir + "net/dev")
	if err != nil {
		s.errs.Fail(err)
		return
	}
	if err := proc.ScanNetDev(d, func(iface []byte, nd proc.NetDev) {
		name := string(iface)
		s.mb.RecordContainerNetworkIODataPoint(ts, int64(nd.RxBytes), m.AttributeNetworkIODirectionReceive, name)
		s.mb.RecordContainerNetworkIODataPoint(ts, int64(nd.TxBytes), m.AttributeNetworkIODirectionTransmit, name)
	}); err != nil {
		s.errs.Fail(err)
	}
}
