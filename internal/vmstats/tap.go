package vmstats

import (
	"bytes"
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// Tap is a network device a VMM moves its guest's frames through.
type Tap struct {
	Name string
	// Macvtap is set for a /dev/tap<ifindex> character device (drivers/net/tap.c), clear for
	// a /dev/net/tun descriptor (drivers/net/tun.c).
	Macvtap bool
	// FromCmdline is set when the name came from the VMM's command line (the descriptor was
	// not readable), so it is what the VMM was told, not what it holds.
	FromCmdline bool
}

// maxIfNameLen is IFNAMSIZ - 1 (include/uapi/linux/if.h).
const maxIfNameLen = 15

// ValidIfName reports whether b can be a Linux interface name (net/core/dev.c,
// dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or white space.
func ValidIfName(b []byte) bool {
	if len(b) == 0 || len(b) > maxIfNameLen || string(b) == "." || string(b) == ".." {
		return false
	}
	for _, c := range b {
		if c == '/' || c == ':' || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// ParseTunFdinfo returns the device a /dev/net/tun descriptor is attached to, from the
// "iff:\t<name>" line of its /proc/<pid>/fdinfo/<fd> (drivers/net/tun.c,
// tun_chr_show_fdinfo). ok is false for a descriptor not attached to a device yet.
func ParseTunFdinfo(data []byte) (name []byte, ok bool, err error) {
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		v, found := bytes.CutPrefix(line, []byte("iff:"))
		if !found {
			continue
		}
		v = bytes.TrimLeft(v, " \t")
		if !ValidIfName(v) {
			return nil, false, malformed("fdinfo", "bad iff %q", v)
		}
		return v, true, nil
	}
	return nil, false, nil
}

// MacvtapIfindex recognizes a descriptor link to a macvtap/ipvtap character device,
// "/dev/tap<ifindex>" (udev names the node after the device's ifindex).
func MacvtapIfindex(link []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(link, []byte("/dev/tap"))
	if !ok {
		return 0, false
	}
	n, ok := bytesparse.Atou(rest)
	if !ok || n == 0 || n > 1<<31-1 {
		return 0, false
	}
	return int(n), true
}

// DiscoverTaps finds the tap and macvtap devices the VMM process pid holds open. Taps come
// from the fdinfo of its /dev/net/tun descriptors; a macvtap's ifindex is resolved to a name
// through sysClassNet ("/sys/class/net", which shows the collector's network namespace, where
// macvtaps live beside their lower device). When no descriptor could be read (another user's
// process without root) the names on the command line are returned, marked FromCmdline.
func DiscoverTaps(r *linuxfs.Reader, procRoot, sysClassNet string, pid int, dst []Tap) ([]Tap, error) {
	dst = dst[:0]
	base := procRoot + "/" + strconv.Itoa(pid)
	fds, err := r.ListNames(base+"/fd", nil)
	if err == nil {
		var ifindexes []int
		for _, name := range fds {
			link, err := r.ReadlinkInto(base + "/fd/" + name)
			if err != nil {
				continue
			}
			if string(link) == "/dev/net/tun" {
				info, err := r.Read(base + "/fdinfo/" + name)
				if err != nil {
					continue
				}
				if dev, ok, _ := ParseTunFdinfo(info); ok {
					dst = appendTap(dst, Tap{Name: string(dev)})
				}
			} else if idx, ok := MacvtapIfindex(link); ok {
				ifindexes = append(ifindexes, idx)
			}
		}
		if len(ifindexes) > 0 {
			names, _ := r.ListNames(sysClassNet, nil)
			for _, n := range names {
				data, err := r.Read(sysClassNet + "/" + n + "/ifindex")
				if err != nil {
					continue
				}
				idx, ok := bytesparse.Atou(bytes.TrimSpace(data))
				if ok && bytesContainsInt(ifindexes, int(idx)) && ValidIfName([]byte(n)) {
					dst = appendTap(dst, Tap{Name: n, Macvtap: true})
				}
			}
		}
		if len(dst) > 0 {
			return dst, nil
		}
	}
	cmdline, cerr := r.Read(base + "/cmdline")
	if cerr != nil {
		if err != nil {
			return dst, err
		}
		return dst, cerr
	}
	for _, n := range TapNamesFromCmdline(cmdline) {
		dst = appendTap(dst, Tap{Name: n, FromCmdline: true})
	}
	return dst, err
}

func bytesContainsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func appendTap(dst []Tap, t Tap) []Tap {
	for _, d := range dst {
		if d.Name == t.Name {
			return dst
		}
	}
	return append(dst, t)
}

// maxCmdlineTaps bounds the names taken from one command line.
const maxCmdlineTaps = 64

// TapNamesFromCmdline returns the tap names a VMM was given on its NUL-separated command
// line: QEMU's "-netdev tap,...,ifname=N" (also -nic and -net; ",," escapes a comma,
// qemu-options.hx), Cloud Hypervisor's "--net tap=N,..." (vmm/src/config.rs, NetConfig::parse)
// and crosvm's "--net tap-name=N" or "--tap-name N".
func TapNamesFromCmdline(cmdline []byte) []string {
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	var names []string
	add := func(v []byte) {
		if ValidIfName(v) && len(names) < maxCmdlineTaps && !containsString(names, string(v)) {
			names = append(names, string(v))
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var val []byte
		if k, v, ok := bytes.Cut(a, []byte{'='}); ok && bytes.HasPrefix(k, []byte("--")) {
			a, val = k, v // --net=tap=x
		} else if i+1 < len(args) {
			val = args[i+1]
		}
		switch string(a) {
		case "-netdev", "-nic", "-net":
			opts := splitQEMUOpts(val)
			if len(opts) > 0 && string(opts[0]) == "tap" {
				for _, o := range opts[1:] {
					if v, ok := bytes.CutPrefix(o, []byte("ifname=")); ok {
						add(v)
					}
				}
			}
		case "--net":
			// Cloud Hypervisor takes several values after one --net.
			vals := [][]byte{val}
			if !bytes.Contains(args[i], []byte{'='}) {
				vals = nil
				for j := i + 1; j < len(args) && !bytes.HasPrefix(args[j], []byte("-")); j++ {
					vals = append(vals, args[j])
				}
			}
			for _, v := range vals {
				for _, o := range bytes.Split(v, []byte{','}) {
					if n, ok := bytes.CutPrefix(o, []byte("tap=")); ok {
						add(n)
					} else if n, ok := bytes.CutPrefix(o, []byte("tap-name=")); ok {
						add(n)
					}
				}
			}
		case "--tap-name":
			add(val)
		}
	}
	return names
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// splitQEMUOpts splits a QEMU option string on ',', where ",," stands for a comma.
func splitQEMUOpts(s []byte) [][]byte {
	var out [][]byte
	var cur []byte
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			if i+1 < len(s) && s[i+1] == ',' {
				cur = append(cur, ',')
				i++
				continue
			}
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, s[i])
	}
	return append(out, cur)
}
