package edgeprofileextension_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// TestOpAMPLiveSwitch: an OpAMP server switches the real binary edge -> cloud -> edge under a
// steady 1,000 spans/s, with nothing lost (runLiveSwitch), and sees the active preset and the
// reasons in the agent's reports.
func TestOpAMPLiveSwitch(t *testing.T) {
	skipShort(t)
	srv, endpoint := edgeprofileextension.StartOpAMPTestServer(t)
	sink := e2e.NewSink(t)
	r := startPreset(t, sink, []string{minimalConfig(t, "edge", "")}, "extensions::edge_profile::opamp::endpoint="+endpoint)
	srv.WaitReport(t, "edge", "profile: edge in the configuration")
	assert.Equal(t, "otelcol-virt", srv.Attr("service.name"))
	assertExportersReportOK(t, r.control)
	reasons := map[string]string{}
	n := 0
	runLiveSwitch(t, r, func(p string) {
		n++
		reasons[p] = "rollout step " + string(rune('0'+n))
		srv.SwitchTo(t, p, reasons[p])
		st := srv.WaitReport(t, p, reasons[p])
		assert.Equal(t, edgeprofileextension.SourceOpAMP, st.Source)
	})
	st := status(t, r.control)
	assert.Equal(t, "edge", st.Active)
	require.GreaterOrEqual(t, len(st.Switches), 3)
	last := st.Switches[len(st.Switches)-1]
	assert.Equal(t, "opamp", last.Source)
	assert.True(t, strings.HasSuffix(last.Reason, reasons["edge"]), last.Reason)
	assert.Contains(t, srv.Attr(edgeprofileextension.AttrSwitches), reasons["cloud"], "the last switches are in the description")
}

// assertExportersReportOK checks, through the real service, that component status events of
// every preset's generated exporter reach the extension and are mapped to their preset.
func assertExportersReportOK(t *testing.T, control string) {
	t.Helper()
	resp, err := http.Get("http://" + control + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		ExporterHealth map[string][]struct{ Exporter, Status string } `json:"exporter_health"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	for _, preset := range []string{"edge", "cloud", "hybrid"} {
		require.Len(t, st.ExporterHealth[preset], 1, "%s: %+v", preset, st.ExporterHealth)
		h := st.ExporterHealth[preset][0]
		assert.Equal(t, "StatusOK", h.Status, preset)
		assert.Contains(t, h.Exporter, "edge_profile-"+preset)
	}
}
