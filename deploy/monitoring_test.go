package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/otlptranslator"
	"sigs.k8s.io/yaml"
)

const (
	rulesFile     = "monitoring/prometheus/otelcol-virt.rules.yaml"
	rulesTestFile = "monitoring/prometheus/tests/otelcol-virt.rules.test.yaml"
	dashboardFile = "monitoring/grafana/otelcol-virt.json"
	contractFile  = "receiver/wasmruntimereceiver/metadata.yaml"
)

type ruleFile struct {
	Groups []ruleGroup `json:"groups"`
}

type ruleGroup struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	var rf ruleFile
	if err := yaml.UnmarshalStrict(readRepoFile(t, rulesFile), &rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	return rf
}

func alerts(rf ruleFile) []rule {
	var out []rule
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func runPromtool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtoolPath(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPrometheusRulesCheck(t *testing.T) {
	out, err := runPromtool(t, repoPath(), "check", "rules", rulesFile)
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	for _, a := range alerts(loadRules(t)) {
		if a.Labels["severity"] == "" || a.Annotations["summary"] == "" || a.Annotations["description"] == "" {
			t.Errorf("alert %s: needs a severity label, a summary and a description", a.Alert)
		}
	}
}

// TestPrometheusRulesUnitTests runs promtool's rule unit tests: each alert fires on synthetic
// series of an offending instance, and stays silent on the normal ones.
func TestPrometheusRulesUnitTests(t *testing.T) {
	out, err := runPromtool(t, repoPath(), "test", "rules", rulesTestFile)
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestPrometheusRulesTestsCoverEveryAlert proves the unit tests have teeth: for every alert,
// a copy of the rules where that alert never fires, and one where it fires on every series
// (normal ones included), must each make `promtool test rules` fail.
func TestPrometheusRulesTestsCoverEveryAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the mutation check runs promtool twice per alert")
	}
	rf := loadRules(t)
	tests := readRepoFile(t, rulesTestFile)
	for _, a := range alerts(rf) {
		for _, m := range []struct{ name, expr string }{
			{"never fires", "vector(1) == 2"},
			{"fires on every series", `{__name__=~".+"}`},
		} {
			dir := t.TempDir()
			mutated := mutateAlert(rf, a.Alert, m.expr)
			data, err := yaml.Marshal(mutated)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, filepath.Base(rulesFile)), data)
			writeFile(t, filepath.Join(dir, "tests", filepath.Base(rulesTestFile)), tests)
			if out, err := runPromtool(t, dir, "test", "rules", "tests/"+filepath.Base(rulesTestFile)); err == nil {
				t.Errorf("alert %s: the unit tests still pass when it %s:\n%s", a.Alert, m.name, out)
			}
		}
	}
}

func mutateAlert(rf ruleFile, alert, expr string) ruleFile {
	var out ruleFile
	for _, g := range rf.Groups {
		ng := ruleGroup{Name: g.Name}
		for _, r := range g.Rules {
			if r.Alert == alert {
				r.Expr = expr
			}
			ng.Rules = append(ng.Rules, r)
		}
		out.Groups = append(out.Groups, ng)
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// contract holds the Prometheus names of the receiver's metrics and labels, derived from its
// metadata.yaml with the translator the prometheus exporter itself uses.
type contract struct {
	metrics  map[string]string // Prometheus name -> OTel name
	labels   map[string]bool
	optional map[string]bool // OTel names of the metrics disabled by default
}

func loadContract(t *testing.T) contract {
	t.Helper()
	var md struct {
		ResourceAttributes map[string]any `json:"resource_attributes"`
		Attributes         map[string]struct {
			NameOverride string `json:"name_override"`
		} `json:"attributes"`
		Metrics map[string]struct {
			Enabled bool   `json:"enabled"`
			Unit    string `json:"unit"`
			Gauge   *struct {
				ValueType string `json:"value_type"`
			} `json:"gauge"`
			Sum *struct {
				Monotonic bool `json:"monotonic"`
			} `json:"sum"`
		} `json:"metrics"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, contractFile), &md); err != nil {
		t.Fatalf("%s: %v", contractFile, err)
	}
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	labelNamer := otlptranslator.LabelNamer{PreserveMultipleUnderscores: true}
	c := contract{metrics: map[string]string{}, labels: map[string]bool{}, optional: map[string]bool{}}
	for name, m := range md.Metrics {
		typ := otlptranslator.MetricType(otlptranslator.MetricTypeGauge)
		if m.Sum != nil {
			typ = otlptranslator.MetricTypeNonMonotonicCounter
			if m.Sum.Monotonic {
				typ = otlptranslator.MetricTypeMonotonicCounter
			}
		}
		promName, err := namer.Build(otlptranslator.Metric{Name: name, Unit: m.Unit, Type: typ})
		if err != nil {
			t.Fatalf("translating %s: %v", name, err)
		}
		c.metrics[promName] = name
		if !m.Enabled {
			c.optional[name] = true
		}
	}
	addLabel := func(attr string) {
		l, err := labelNamer.Build(attr)
		if err != nil {
			t.Fatalf("translating %s: %v", attr, err)
		}
		c.labels[l] = true
	}
	for attr := range md.ResourceAttributes {
		addLabel(attr)
	}
	for key, a := range md.Attributes {
		if a.NameOverride != "" {
			key = a.NameOverride
		}
		addLabel(key)
	}
	if len(c.metrics) < 10 {
		t.Fatalf("%s: only %d metrics; the contract did not parse", contractFile, len(c.metrics))
	}
	return c
}

// contractToken finds the names that belong to the receiver's namespaces in PromQL.
var contractToken = regexp.MustCompile(`\b(?:wasm_runtime|container|process|disk|network|cpu|system)_[a-z0-9_]+\b`)

func checkNames(t *testing.T, c contract, where, text string) []string {
	t.Helper()
	var metrics []string
	for _, tok := range contractToken.FindAllString(text, -1) {
		switch {
		case c.metrics[tok] != "":
			metrics = append(metrics, tok)
		case c.labels[tok]:
		default:
			t.Errorf("%s: %s is neither a metric nor a label of the wasm_runtime contract (%s)", where, tok, contractFile)
		}
	}
	return metrics
}

func TestMonitoringNamesFollowTheContract(t *testing.T) {
	c := loadContract(t)
	// Spot-check the translation against names the contract's documentation spells out.
	for _, want := range []string{"container_cpu_time_seconds_total", "wasm_runtime_cpu_limit_utilization_ratio", "wasm_runtime_limit_configured"} {
		if c.metrics[want] == "" {
			t.Errorf("translated contract lacks %s (documentation.md names it)", want)
		}
	}
	used := map[string]bool{}
	for _, a := range alerts(loadRules(t)) {
		for _, m := range checkNames(t, c, "alert "+a.Alert, a.Expr+" "+strings.Join(mapValues(a.Annotations), " ")) {
			used[m] = true
		}
	}
	for _, p := range dashboardPanels(t, loadDashboard(t)) {
		for _, tg := range p.Targets {
			for _, m := range checkNames(t, c, "panel "+p.Title, tg.Expr+" "+tg.LegendFormat) {
				used[m] = true
			}
		}
	}
	// The four attack vectors and the limits posture are all watched.
	for _, m := range []string{
		"wasm_runtime_cpu_limit_utilization_ratio", "wasm_runtime_cpu_throttled_periods_total",
		"wasm_runtime_memory_limit_utilization_ratio", "wasm_runtime_memory_oom_kills_total",
		"wasm_runtime_file_descriptor_count", "wasm_runtime_file_descriptor_limit_utilization_ratio",
		"wasm_runtime_connection_count", "wasm_runtime_limit_configured",
		"wasm_runtime_pressure_stall_time_seconds_total",
	} {
		if !used[m] {
			t.Errorf("no alert or panel uses %s", m)
		}
	}
}

// TestMonitoredMetricsAreEnabled: every optional metric an alert or panel uses is enabled in
// every configuration that feeds them (the Kubernetes agents and the Compose sidecar).
func TestMonitoredMetricsAreEnabled(t *testing.T) {
	c := loadContract(t)
	var text strings.Builder
	for _, a := range alerts(loadRules(t)) {
		text.WriteString(a.Expr + "\n")
	}
	for _, q := range dashboardQueries(t) {
		text.WriteString(q + "\n")
	}
	var needed []string
	for _, tok := range contractToken.FindAllString(text.String(), -1) {
		if name := c.metrics[tok]; c.optional[name] && !slices.Contains(needed, name) {
			needed = append(needed, name)
		}
	}
	if len(needed) == 0 {
		t.Fatal("no optional metric used; the check proves nothing")
	}
	configs := map[string][]byte{"examples/compose/otelcol-virt.yaml": readRepoFile(t, composeDir, "otelcol-virt.yaml")}
	for _, o := range overlays {
		configs["overlays/"+o+"/agent.yaml"] = readRepoFile(t, k8sDir, "overlays", o, "agent.yaml")
	}
	for name, data := range configs {
		cfg := yamlMap(t, name, data)
		for _, m := range needed {
			if v, _ := lookup(cfg, "receivers", "wasm_runtime", "metrics", m, "enabled"); v != true {
				t.Errorf("%s: enable the optional metric %s, which the alerts or the dashboard use", name, m)
			}
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

func dashboardPanels(t *testing.T, d dashboard) []panel {
	t.Helper()
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// expandVariables replaces Grafana's variables with what Grafana sends for "All" and a typical
// rate interval, so the queries can be checked by Prometheus.
func expandVariables(expr string) string {
	return strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$kind", ".*", "$runtime", ".*").Replace(expr)
}

var grafanaVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

func TestGrafanaDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard needs a uid, a title and a current schemaVersion (got %q, %q, %d)", d.UID, d.Title, d.SchemaVersion)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["datasource"] {
		t.Error("dashboard needs a datasource variable, so it works with any Prometheus")
	}
	ids := map[int]bool{}
	var exprs []string
	type box struct{ x0, y0, x1, y1 int }
	var boxes []box
	for _, p := range dashboardPanels(t, d) {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: bad gridPos", p.Title)
		} else {
			b := box{p.GridPos.X, p.GridPos.Y, p.GridPos.X + p.GridPos.W, p.GridPos.Y + p.GridPos.H}
			for _, o := range boxes {
				if b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 {
					t.Errorf("panel %q overlaps another panel", p.Title)
				}
			}
			boxes = append(boxes, b)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource must be ${datasource}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] || tg.RefID == "" {
				t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			for _, m := range grafanaVariable.FindAllStringSubmatch(tg.Expr, -1) {
				if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
					t.Errorf("panel %q uses $%s, which the dashboard does not define", p.Title, m[1])
				}
			}
			exprs = append(exprs, expandVariables(tg.Expr))
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			// label_values(metric{...}, label): the selector must be valid PromQL too.
			if m := regexp.MustCompile(`^label_values\((.*),\s*[a-z_]+\)$`).FindStringSubmatch(v.Definition); m != nil {
				exprs = append(exprs, expandVariables(m[1]))
			} else {
				t.Errorf("variable %s: unexpected definition %q", v.Name, v.Definition)
			}
		}
	}
	checkPromQL(t, exprs)
}

// checkPromQL has promtool parse expressions, as recording rules of a scratch rule file.
func checkPromQL(t *testing.T, exprs []string) {
	t.Helper()
	var rf ruleFile
	g := ruleGroup{Name: "dashboard"}
	for i, e := range exprs {
		g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: e})
	}
	rf.Groups = append(rf.Groups, g)
	data, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "dashboard.rules.yaml"), data)
	if out, err := runPromtool(t, dir, "check", "rules", "dashboard.rules.yaml"); err != nil {
		t.Errorf("dashboard queries do not parse: %v\n%s", err, out)
	}
}

// dashboardQueries returns every dashboard query with its variables expanded, sorted.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range dashboardPanels(t, loadDashboard(t)) {
		for _, tg := range p.Targets {
			out = append(out, expandVariables(tg.Expr))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
