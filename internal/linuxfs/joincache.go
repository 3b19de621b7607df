package linuxfs

import "path/filepath"

// JoinCache is filepath.Join(dir, name) kept from one pass to the next: a collector joins the
// same few cgroup directories at every scrape or walk, and joining them anew was a tenth of a
// scrape's CPU and a third of the bytes it allocated. EndPass drops what a pass did not use,
// so the cache holds only the directories of live instances. The zero value is ready to use.
type JoinCache struct {
	m    map[[2]string]*joined // a pointer, so that marking one used is no second map write
	pass uint64
}

type joined struct {
	path string
	pass uint64
}

// Join returns filepath.Join(dir, name), joined once for as long as every pass uses it.
func (c *JoinCache) Join(dir, name string) string {
	if c.m == nil {
		c.m = map[[2]string]*joined{}
	}
	k := [2]string{dir, name}
	j, ok := c.m[k]
	if !ok {
		j = &joined{path: filepath.Join(dir, name)}
		c.m[k] = j
	}
	j.pass = c.pass
	return j.path
}

// EndPass drops the joins this pass did not use and starts the next pass.
func (c *JoinCache) EndPass() {
	for k, j := range c.m {
		if j.pass != c.pass {
			delete(c.m, k)
		}
	}
	c.pass++
}

// Len is the number of joins held.
func (c *JoinCache) Len() int { return len(c.m) }
