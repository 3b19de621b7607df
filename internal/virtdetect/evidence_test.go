package virtdetect

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBoundEvidence(t *testing.T) {
	assert.Equal(t, "run.systemd.container=podman", boundOne("run.systemd.container=podman"), "short printable evidence is kept as is")
	long := boundOne("run.systemd.container=" + strings.Repeat("\x00", 1<<20))
	assert.LessOrEqual(t, len(long), maxEvidenceLen+32)
	assert.True(t, strings.HasPrefix(long, "run.systemd.container=???"), long)
	assert.True(t, strings.HasSuffix(long, "...(1048598 bytes)"), long)
	assert.Equal(t, "a?b...(3 bytes)", boundOne("a\nb"), "a control character is replaced and the length noted")

	// Through Classify: a hostile /run/systemd/container still names container-other, with
	// its evidence bounded.
	h := Classify(Observations{SystemdContainer: strings.Repeat("x", 1<<20)})
	var found bool
	for _, l := range h.Layers {
		for _, ev := range l.Evidence {
			assert.LessOrEqual(t, len(ev), maxEvidenceLen+32, "evidence of %s", l)
			found = found || strings.HasPrefix(ev, "run.systemd.container=xxx")
		}
	}
	assert.True(t, found, "the container layer still cites its source: %+v", h.Layers)
}
