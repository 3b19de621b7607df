package inventory

import "time"

// Static returns an inventory that serves the given instances and never walks a host: for the
// tests of its consumers, and for callers that know their fleet without discovery.
func Static(instances []Instance) *Inventory {
	inv := &Inventory{static: true, started: true}
	inv.Publish(instances)
	return inv
}

// Publish replaces a static inventory's snapshot with instances, taken now.
func (inv *Inventory) Publish(instances []Instance) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.walk++
	s := &Snapshot{Taken: time.Now(), Walk: inv.walk, Instances: instances}
	s.index()
	inv.current.Store(s)
}
