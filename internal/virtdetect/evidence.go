package virtdetect

import (
	"strconv"
	"strings"
)

// maxEvidenceLen bounds one evidence string: evidence quotes what files hold, and a file such as
// /run/systemd/container is written by whoever controls the root, so a hostile one of a
// megabyte must not become a megabyte of log line and attribute.
const maxEvidenceLen = 128

// boundEvidence makes every evidence string of h printable and at most maxEvidenceLen bytes
// (plus a note of how long it was).
func boundEvidence(h *Host) {
	for i := range h.Layers {
		for j, ev := range h.Layers[i].Evidence {
			h.Layers[i].Evidence[j] = boundOne(ev)
		}
	}
	for i, ev := range h.RoleEvidence {
		h.RoleEvidence[i] = boundOne(ev)
	}
	for i, ev := range h.SetAside {
		h.SetAside[i] = boundOne(ev)
	}
}

func boundOne(ev string) string {
	printable := true
	for _, r := range ev {
		if r < 0x20 || r > 0x7e {
			printable = false
			break
		}
	}
	if printable && len(ev) <= maxEvidenceLen {
		return ev
	}
	var b strings.Builder
	for _, r := range ev {
		if b.Len() >= maxEvidenceLen {
			break
		}
		if r < 0x20 || r > 0x7e {
			b.WriteByte('?')
		} else {
			b.WriteRune(r)
		}
	}
	if b.Len() < len(ev) || !printable {
		b.WriteString("...(" + strconv.Itoa(len(ev)) + " bytes)")
	}
	return b.String()
}
