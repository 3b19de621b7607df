package virtdetect

import (
	"bytes"
	"io"
	"os"
	"sort"
)

// ACPIHeader is the start of an ACPI system description table: signature and OEM ids. VMMs
// write their own: Firecracker "FIRECK", Cloud Hypervisor "CLOUDH", QEMU "BOCHS ", Hyper-V
// "VRTUAL", VirtualBox "VBOX  ", Amazon "AMAZON", Google "Google".
type ACPIHeader struct {
	Signature   string
	OEMID       string
	OEMTableID  string
	CreatorID   string
	TableLength uint32
}

// ParseACPIHeader parses the 36-byte header common to all ACPI tables.
func ParseACPIHeader(b []byte) (ACPIHeader, bool) {
	if len(b) < 36 {
		return ACPIHeader{}, false
	}
	clean := func(x []byte) string { return string(bytes.TrimRight(x, " \x00")) }
	return ACPIHeader{
		Signature:   clean(b[0:4]),
		TableLength: uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24,
		OEMID:       clean(b[10:16]),
		OEMTableID:  clean(b[16:24]),
		CreatorID:   clean(b[28:32]),
	}, true
}

// ACPITables is what /sys/firmware/acpi/tables shows.
type ACPITables struct {
	Headers []ACPIHeader
	// Unreadable is set when tables exist but could not be read (they are root-only).
	Unreadable bool
}

// OEMIDs returns the distinct OEM ids, sorted.
func (t ACPITables) OEMIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range t.Headers {
		if h.OEMID != "" && !seen[h.OEMID] {
			seen[h.OEMID] = true
			out = append(out, h.OEMID)
		}
	}
	sort.Strings(out)
	return out
}

// ReadACPITables reads the header of each table in /sys/firmware/acpi/tables.
func ReadACPITables(f FS) ACPITables {
	var t ACPITables
	const dir = "/sys/firmware/acpi/tables/"
	for _, name := range f.ReadDir(dir) {
		f.rec.add(dir+name, accessHead)
		fh, err := os.Open(f.Path(dir + name))
		if err != nil {
			if os.IsPermission(err) {
				t.Unreadable = true
			}
			continue
		}
		buf := make([]byte, 36)
		n, _ := io.ReadFull(fh, buf)
		fh.Close()
		if h, ok := ParseACPIHeader(buf[:n]); ok {
			t.Headers = append(t.Headers, h)
		}
	}
	return t
}
