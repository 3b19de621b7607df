package virtualizationattributesprocessor

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

// instanceInfo is the workload layer of one instance, built once and reused for every resource
// that maps to it.
type instanceInfo struct {
	kind    string
	runtime string
	vmm     string
	strs    []kv
	compat  []kv
}

// infoOf is the workload layer of an inventory instance.
func infoOf(in *inventory.Instance, ra ResourceAttributesConfig) *instanceInfo {
	return newInstanceInfo(in.Identity.Kind, in.Identity.Runtime, in.Identity.VMM, ra)
}

func newInstanceInfo(kind, runtime, vmm string, ra ResourceAttributesConfig) *instanceInfo {
	in := &instanceInfo{kind: kind, runtime: runtime, vmm: vmm}
	add := func(list *[]kv, k, v string) {
		if v != "" && ra.enabled(k) {
			*list = append(*list, kv{k, v})
		}
	}
	add(&in.strs, attrIsolationLevel, kind)
	add(&in.strs, attrRuntimeName, runtime)
	add(&in.strs, attrInstanceVMMName, vmm)
	tech := runtime
	if tech == "" {
		tech = vmm
	}
	add(&in.compat, attrCompatType, tech)
	add(&in.compat, attrCompatIsolationLevel, compatIsolationLevel(kind))
	return in
}

// keyKind tells which attribute a cache key came from.
type keyKind uint8

const (
	keyContainer keyKind = iota + 1
	keyPod
	keyPID
	keyServiceInstance
	keyConnection
)

// cacheKey identifies a lookup; comparing it does not allocate.
type cacheKey struct {
	kind keyKind
	s    string
	n    int64
	ap   netip.AddrPort
}

type cacheEntry struct {
	info    *instanceInfo // nil: known not to be a local instance
	snap    *inventory.Snapshot
	expires int64 // unix nanoseconds; 0 for inventory entries (valid while snap is current)
	// regMiss is the inventory snapshot last found not to know the key of a lookup entry.
	regMiss *inventory.Snapshot
}

// assocCache is a bounded map of associations, one map per key kind so that a lookup hashes a
// plain string or integer. When full, expired entries are dropped, then an arbitrary half: the
// cache is a cost saver, not a source of truth.
type assocCache struct {
	mu    sync.RWMutex
	byStr [keyConnection + 1]map[string]cacheEntry // container, pod, service instance
	byPID map[int64]cacheEntry
	byAP  map[netip.AddrPort]cacheEntry
	n     int
	max   int
}

func newAssocCache(max int) *assocCache {
	c := &assocCache{max: max, byPID: map[int64]cacheEntry{}, byAP: map[netip.AddrPort]cacheEntry{}}
	for _, k := range []keyKind{keyContainer, keyPod, keyServiceInstance} {
		c.byStr[k] = map[string]cacheEntry{}
	}
	return c
}

func (c *assocCache) get(k cacheKey) (cacheEntry, bool) {
	c.mu.RLock()
	var e cacheEntry
	var ok bool
	switch k.kind {
	case keyPID:
		e, ok = c.byPID[k.n]
	case keyConnection:
		e, ok = c.byAP[k.ap]
	default:
		if m := c.byStr[k.kind]; m != nil {
			e, ok = m[k.s]
		}
	}
	c.mu.RUnlock()
	return e, ok
}

func (c *assocCache) put(k cacheKey, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.getLocked(k); !exists {
		if c.n >= c.max {
			c.evictLocked()
		}
		c.n++
	}
	switch k.kind {
	case keyPID:
		c.byPID[k.n] = e
	case keyConnection:
		c.byAP[k.ap] = e
	default:
		if m := c.byStr[k.kind]; m != nil {
			m[k.s] = e
		}
	}
}

func (c *assocCache) getLocked(k cacheKey) (cacheEntry, bool) {
	switch k.kind {
	case keyPID:
		e, ok := c.byPID[k.n]
		return e, ok
	case keyConnection:
		e, ok := c.byAP[k.ap]
		return e, ok
	default:
		if m := c.byStr[k.kind]; m != nil {
			e, ok := m[k.s]
			return e, ok
		}
	}
	return cacheEntry{}, false
}

// evictLocked drops expired entries, then entries until the cache is half full.
func (c *assocCache) evictLocked() {
	now := time.Now().UnixNano()
	drop := func(expiredOnly bool) {
		target := c.max/2 + 1
		evict := func(e cacheEntry) bool {
			if expiredOnly {
				return e.expires != 0 && e.expires < now
			}
			return c.n >= target
		}
		for k, e := range c.byPID {
			if evict(e) {
				delete(c.byPID, k)
				c.n--
			}
		}
		for k, e := range c.byAP {
			if evict(e) {
				delete(c.byAP, k)
				c.n--
			}
		}
		for _, m := range c.byStr {
			for k, e := range m {
				if evict(e) {
					delete(m, k)
					c.n--
				}
			}
		}
	}
	drop(true)
	if c.n >= c.max {
		drop(false)
	}
}

func (c *assocCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.n
}

// keyFor extracts the cache key of a source from resource attributes.
func keyFor(source string, attrs pcommon.Map) (cacheKey, bool) {
	switch source {
	case SourceContainerID:
		if v, ok := attrs.Get("container.id"); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return cacheKey{kind: keyContainer, s: v.Str()}, true
		}
	case SourcePodUID:
		if v, ok := attrs.Get("k8s.pod.uid"); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return cacheKey{kind: keyPod, s: v.Str()}, true
		}
	case SourceProcessPID:
		// PID 1 is skipped: it is what a containerised application sees as its own pid, and
		// the node's init never sends telemetry.
		if v, ok := attrs.Get("process.pid"); ok {
			switch v.Type() {
			case pcommon.ValueTypeInt:
				if v.Int() > 1 {
					return cacheKey{kind: keyPID, n: v.Int()}, true
				}
			case pcommon.ValueTypeStr:
				if n, err := strconv.ParseInt(v.Str(), 10, 64); err == nil && n > 1 {
					return cacheKey{kind: keyPID, n: n}, true
				}
			}
		}
	case SourceServiceInstanceID:
		if v, ok := attrs.Get("service.instance.id"); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return cacheKey{kind: keyServiceInstance, s: v.Str()}, true
		}
	}
	return cacheKey{}, false
}

// lookupSnapshot finds an instance for a key in an inventory snapshot (in memory, no I/O).
func lookupSnapshot(s *inventory.Snapshot, k cacheKey) *inventory.Instance {
	switch k.kind {
	case keyContainer:
		if in, ok := s.ByContainerID(k.s); ok {
			return in
		}
	case keyPod:
		if ins := s.ByPodUID(k.s); len(ins) > 0 {
			return ins[0]
		}
	case keyPID:
		if in, ok := s.ByPID(int(k.n)); ok {
			return in
		}
	case keyServiceInstance:
		// Instrumentation often sets service.instance.id to the container id or the pod uid.
		if in, ok := s.ByContainerID(k.s); ok {
			return in
		}
		if ins := s.ByPodUID(k.s); len(ins) > 0 {
			return ins[0]
		}
		if in, ok := s.ByKey(k.s); ok { // the receiver's wasm_runtime.instance.id
			return in
		}
		if pid, ok := strings.CutPrefix(k.s, "pid:"); ok {
			pid, _, _ = strings.Cut(pid, ":")
			if n, err := strconv.Atoi(pid); err == nil {
				if in, ok := s.ByPID(n); ok {
					return in
				}
			}
		}
	}
	return nil
}
