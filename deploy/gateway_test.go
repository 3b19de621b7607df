package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The gateway at cluster scale (docs/deployment.md): a StatefulSet whose replicas each keep a
// persistent queue on a volume claim, an autoscaler on queue fill, refused items and CPU, and a
// scale-in that moves the agents away and drains before the pod goes.

const adapterFile = "extras/prometheus-adapter.yaml"

// shutdownBudget is what the collector's own shutdown gets after the preStop sleep: receivers
// stop, the exporters' queues hand their last batch over or keep it on disk.
const shutdownBudget = 30 * time.Second

// minDrain is the least time the preStop sleep must leave, after the agents' connections have
// moved, for the queue to drain to the backend. The autoscaler scales in only below its queue
// fill target, and a gateway replica sends far more per second than that backlog (see the
// sizing in docs/deployment.md).
const minDrain = 30 * time.Second

func duration(t *testing.T, where string, v any) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(fmt.Sprint(v))
	if err != nil {
		t.Fatalf("%s: %v is not a duration: %v", where, v, err)
	}
	return d
}

func number(t *testing.T, where string, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%s: %v is not a number", where, v)
	}
	return int64(f)
}

// checkGatewayQueue: every exporter of the gateway queues on the StatefulSet's volume claim,
// and nothing acknowledges data before it is there.
func checkGatewayQueue(t *testing.T, where string, sts *appsv1.StatefulSet, config []byte) {
	t.Helper()
	cfg := yamlMap(t, where, config)
	ctr := sts.Spec.Template.Spec.Containers[0]

	claims := map[string]int64{} // volume claim template -> requested bytes
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		claims[pvc.Name] = q.Value()
		if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteOnce) {
			t.Errorf("%s: claim %s should be ReadWriteOnce (one replica, one queue)", where, pvc.Name)
		}
	}
	claimAt := func(dir string) (string, bool) {
		for _, m := range ctr.VolumeMounts {
			if _, ok := claims[m.Name]; ok && !m.ReadOnly && (dir == m.MountPath || strings.HasPrefix(dir, m.MountPath+"/")) {
				return m.Name, true
			}
		}
		return "", false
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil ||
		p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("%s: retain the claims on scale-in and deletion: they hold what was not sent yet", where)
	}
	if sc := sts.Spec.Template.Spec.SecurityContext; sc == nil || sc.FSGroup == nil || sc.RunAsGroup == nil || *sc.FSGroup != *sc.RunAsGroup {
		t.Errorf("%s: set fsGroup to the collector's group so it can write the claim", where)
	}

	pipelines, _ := lookup(cfg, "service", "pipelines")
	exporters := map[string]bool{}
	for name, p := range pipelines.(map[string]any) {
		pm := p.(map[string]any)
		for _, proc := range toStrings(pm["processors"]) {
			if proc == "batch" || strings.HasPrefix(proc, "batch/") {
				t.Errorf("%s: pipeline %s has a batch processor, which acknowledges data before it reaches the persistent queue", where, name)
			}
		}
		for _, e := range toStrings(pm["exporters"]) {
			exporters[e] = true
		}
	}
	if len(exporters) == 0 {
		t.Fatalf("%s: no exporter in the pipelines", where)
	}
	extensions := toStrings(mustLookup(t, cfg, "service", "extensions"))
	var queueBytes int64
	for id := range exporters {
		q, _ := lookup(cfg, "exporters", id, "sending_queue")
		qm, _ := q.(map[string]any)
		if qm == nil || qm["enabled"] != true {
			t.Errorf("%s: exporter %s has no sending queue", where, id)
			continue
		}
		storage := fmt.Sprint(qm["storage"])
		if !strings.HasPrefix(storage, "file_storage") || !slices.Contains(extensions, storage) {
			t.Errorf("%s: exporter %s queue storage %q is not an enabled file_storage extension", where, id, storage)
			continue
		}
		if qm["sizer"] != "bytes" {
			t.Errorf("%s: exporter %s: size the queue in bytes, so its capacity is a share of the volume", where, id)
		}
		if r, _ := lookup(cfg, "exporters", id, "retry_on_failure", "max_elapsed_time"); duration(t, where, r) != 0 {
			t.Errorf("%s: exporter %s gives up retrying after %v; the queue, not a deadline, should bound an outage", where, id, r)
		}
		size := number(t, where, qm["queue_size"])
		queueBytes += size

		ext := mustLookup(t, cfg, "extensions", storage).(map[string]any)
		dir := fmt.Sprint(ext["directory"])
		claim, ok := claimAt(dir)
		if !ok {
			t.Errorf("%s: %s directory %s is not on a volume claim of the StatefulSet", where, storage, dir)
			continue
		}
		if c, _ := lookup(ext, "compaction", "directory"); c != nil {
			if cc, ok := claimAt(fmt.Sprint(c)); !ok || cc != claim {
				t.Errorf("%s: %s compaction directory %v is not on the queue's claim", where, storage, c)
			}
		}
		maxSize := number(t, where, ext["max_size"])
		if size > maxSize {
			t.Errorf("%s: exporter %s queue_size %d is above the file's max_size %d: bbolt would fail before the queue refuses", where, id, size, maxSize)
		}
	}
	// Three signals share one claim through three queue files, each at most max_size.
	var maxFiles int64
	for _, id := range extensions {
		if strings.HasPrefix(id, "file_storage") {
			maxFiles += 3 * number(t, where, mustLookup(t, cfg, "extensions", id, "max_size"))
		}
	}
	for name, bytes := range claims {
		if bytes < maxFiles {
			t.Errorf("%s: claim %s requests %d bytes, less than its queue files may take (%d)", where, name, bytes, maxFiles)
		}
	}
	if queueBytes == 0 {
		t.Errorf("%s: no queue capacity", where)
	}

	// The governing Service is the headless one the agents resolve.
	if sts.Spec.ServiceName != "otelcol-virt-gateway-headless" {
		t.Errorf("%s: serviceName %q, want the headless Service otelcol-virt-gateway-headless", where, sts.Spec.ServiceName)
	}
}

func mustLookup(t *testing.T, m any, keys ...string) any {
	t.Helper()
	v, ok := lookup(m, keys...)
	if !ok {
		t.Fatalf("missing %s", strings.Join(keys, "::"))
	}
	return v
}

// checkGatewayScaleIn: the preStop sleep covers the agents' move away (the gRPC server closes
// every connection after max_connection_age + grace) and leaves time to drain; the grace period
// covers the sleep and the collector's shutdown.
func checkGatewayScaleIn(t *testing.T, where string, sts *appsv1.StatefulSet, config []byte) {
	t.Helper()
	cfg := yamlMap(t, where, config)
	params := mustLookup(t, cfg, "receivers", "otlp", "protocols", "grpc", "keepalive", "server_parameters").(map[string]any)
	age := duration(t, where, params["max_connection_age"])
	grace := duration(t, where, params["max_connection_age_grace"])
	if age <= 0 || age > 5*time.Minute {
		t.Errorf("%s: max_connection_age %v: connections must be recycled for agents to find new replicas, within minutes", where, age)
	}
	ctr := sts.Spec.Template.Spec.Containers[0]
	if ctr.Lifecycle == nil || ctr.Lifecycle.PreStop == nil || ctr.Lifecycle.PreStop.Sleep == nil {
		t.Fatalf("%s: no preStop sleep (the image has no shell for an exec hook)", where)
	}
	sleep := time.Duration(ctr.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if sleep < age+grace+minDrain {
		t.Errorf("%s: preStop sleep %v < max_connection_age %v + grace %v + %v to drain", where, sleep, age, grace, minDrain)
	}
	tgp := sts.Spec.Template.Spec.TerminationGracePeriodSeconds
	if tgp == nil || time.Duration(*tgp)*time.Second < sleep+shutdownBudget {
		t.Errorf("%s: terminationGracePeriodSeconds must cover the preStop sleep %v and %v of shutdown", where, sleep, shutdownBudget)
	}
}

// checkGatewayAutoscaler: at least 3 replicas, scaled on the adapter's queue fill and refused
// items with CPU as a fallback, one replica at a time on the way down, and a disruption budget
// that leaves the others serving.
func checkGatewayAutoscaler(t *testing.T, c *cluster) {
	t.Helper()
	sts, hpa := c.statefulSets[0], c.hpas[0]
	where := "HorizontalPodAutoscaler " + hpa.Name
	if ref := hpa.Spec.ScaleTargetRef; ref.Kind != "StatefulSet" || ref.Name != sts.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("%s: scales %s/%s %s, want the gateway StatefulSet", where, ref.APIVersion, ref.Kind, ref.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 3 || hpa.Spec.MaxReplicas <= *hpa.Spec.MinReplicas {
		t.Errorf("%s: want minReplicas >= 3 and a larger maxReplicas", where)
	}
	if sts.Spec.Replicas == nil || hpa.Spec.MinReplicas == nil || *sts.Spec.Replicas < *hpa.Spec.MinReplicas {
		t.Errorf("%s: the StatefulSet starts below the autoscaler's minimum", where)
	}
	served := adapterMetricNames(t)
	var pods []string
	cpu := false
	for _, m := range hpa.Spec.Metrics {
		switch m.Type {
		case autoscalingv2.PodsMetricSourceType:
			pods = append(pods, m.Pods.Metric.Name)
			if !slices.Contains(served, m.Pods.Metric.Name) {
				t.Errorf("%s: metric %s is not served by the rules of %s (%v)", where, m.Pods.Metric.Name, adapterFile, served)
			}
			if m.Pods.Target.Type != autoscalingv2.AverageValueMetricType || m.Pods.Target.AverageValue == nil {
				t.Errorf("%s: metric %s needs an AverageValue target", where, m.Pods.Metric.Name)
			}
		case autoscalingv2.ResourceMetricSourceType:
			cpu = cpu || m.Resource.Name == corev1.ResourceCPU
		}
	}
	slices.Sort(pods)
	slices.Sort(served)
	if !slices.Equal(pods, served) {
		t.Errorf("%s: scales on %v, the adapter serves %v", where, pods, served)
	}
	if !cpu {
		t.Errorf("%s: no CPU fallback", where)
	}
	if _, ok := sts.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Errorf("%s: CPU utilization needs a CPU request", where)
	}
	if fill := findPodsTarget(hpa, "otelcol_exporter_queue_fill_ratio"); fill <= 0 || fill > 0.5 {
		t.Errorf("%s: queue fill target %v: scale out well before the queue is half full", where, fill)
	}

	down := hpa.Spec.Behavior
	if down == nil || down.ScaleDown == nil || down.ScaleDown.StabilizationWindowSeconds == nil || *down.ScaleDown.StabilizationWindowSeconds < 300 {
		t.Fatalf("%s: scale down only after a quiet period (stabilizationWindowSeconds >= 300)", where)
	}
	tgp := *sts.Spec.Template.Spec.TerminationGracePeriodSeconds
	for _, p := range down.ScaleDown.Policies {
		if p.Type != autoscalingv2.PodsScalingPolicy || p.Value != 1 || int64(p.PeriodSeconds) < tgp {
			t.Errorf("%s: scale-down policy %+v: remove one pod per period of at least the termination grace (%d s)", where, p, tgp)
		}
	}

	if len(c.pdbs) != 1 || c.pdbs[0].Spec.MaxUnavailable == nil || c.pdbs[0].Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("%s: want a PodDisruptionBudget of maxUnavailable: 1 for the gateway", where)
	}
}

func findPodsTarget(hpa *autoscalingv2.HorizontalPodAutoscaler, name string) float64 {
	for _, m := range hpa.Spec.Metrics {
		if m.Type == autoscalingv2.PodsMetricSourceType && m.Pods.Metric.Name == name && m.Pods.Target.AverageValue != nil {
			return m.Pods.Target.AverageValue.AsApproximateFloat64()
		}
	}
	return 0
}

// adapterConfig mirrors the Prometheus adapter's configuration (pkg/config/config.go of
// kubernetes-sigs/prometheus-adapter, commit 0536a5d481daa836d5a97d58a28341471acd2faa), the
// fields these rules use, decoded strictly.
type adapterConfig struct {
	Rules []struct {
		SeriesQuery   string `json:"seriesQuery"`
		SeriesFilters []struct {
			Is    string `json:"is,omitempty"`
			IsNot string `json:"isNot,omitempty"`
		} `json:"seriesFilters,omitempty"`
		Resources struct {
			Template  string `json:"template,omitempty"`
			Overrides map[string]struct {
				Group    string `json:"group,omitempty"`
				Resource string `json:"resource"`
			} `json:"overrides,omitempty"`
		} `json:"resources"`
		Name struct {
			Matches string `json:"matches"`
			As      string `json:"as"`
		} `json:"name"`
		MetricsQuery string `json:"metricsQuery,omitempty"`
	} `json:"rules"`
}

func loadAdapterConfig(t *testing.T) adapterConfig {
	t.Helper()
	objs := decodeManifests(t, adapterFile, readRepoFile(t, k8sDir, adapterFile))
	if len(objs) != 1 {
		t.Fatalf("%s: want one ConfigMap, got %d objects", adapterFile, len(objs))
	}
	cm, ok := objs[0].(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("%s: want a ConfigMap, got %T", adapterFile, objs[0])
	}
	var cfg adapterConfig
	if err := yaml.UnmarshalStrict([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
		t.Fatalf("%s config.yaml: %v", adapterFile, err)
	}
	if len(cfg.Rules) == 0 {
		t.Fatalf("%s: no rules", adapterFile)
	}
	return cfg
}

func adapterMetricNames(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range loadAdapterConfig(t).Rules {
		out = append(out, r.Name.As)
	}
	return out
}

var seriesName = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)

// renderAdapterQuery fills a rule's metricsQuery the way the adapter does for a Pods metric of
// the given pods: the template delimiters are << >>, .Series is the series name, .LabelMatchers
// the namespace and pod matchers, .GroupBy the pod label.
func renderAdapterQuery(t *testing.T, series, query, namespace string, pods []string) string {
	t.Helper()
	tmpl, err := template.New("q").Delims("<<", ">>").Parse(query)
	if err != nil {
		t.Fatalf("metricsQuery %q: %v", query, err)
	}
	var out bytes.Buffer
	err = tmpl.Execute(&out, map[string]string{
		"Series":        series,
		"LabelMatchers": fmt.Sprintf(`namespace=%q,pod=~%q`, namespace, strings.Join(pods, "|")),
		"GroupBy":       "pod",
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestPrometheusAdapterRules renders each rule's query as the adapter would for the gateway's
// pods and evaluates it with promtool on series shaped like the gateway's own telemetry
// (labels from the collector, namespace and pod from the PodMonitor): the fullest queue of
// each pod, and refused items per second that read 0, not "no data", on a pod that never
// refused anything.
func TestPrometheusAdapterRules(t *testing.T) {
	cfg := loadAdapterConfig(t)
	const ns = "otelcol-virt"
	pods := []string{"otelcol-virt-gateway-0", "otelcol-virt-gateway-1"}
	series := func(name, pod, extra string) string {
		return fmt.Sprintf(`%s{namespace=%q,pod=%q,job="otelcol-virt/otelcol-virt",container="otelcol-virt"%s}`, name, ns, pod, extra)
	}
	q := func(pod, dataType string) string {
		return fmt.Sprintf(`,exporter="otlp_grpc/backend",data_type=%q`, dataType)
	}
	inputs := []struct{ series, values string }{
		// gateway-0: traces 300 MiB of 1 GiB, metrics 100 MiB; gateway-1 empty.
		{series("otelcol_exporter_queue_size", pods[0], q(pods[0], "traces")), "314572800x10"},
		{series("otelcol_exporter_queue_capacity", pods[0], q(pods[0], "traces")), "1073741824x10"},
		{series("otelcol_exporter_queue_size", pods[0], q(pods[0], "metrics")), "104857600x10"},
		{series("otelcol_exporter_queue_capacity", pods[0], q(pods[0], "metrics")), "1073741824x10"},
		{series("otelcol_exporter_queue_size", pods[1], q(pods[1], "traces")), "0x10"},
		{series("otelcol_exporter_queue_capacity", pods[1], q(pods[1], "traces")), "1073741824x10"},
		// gateway-0 refuses 600 spans and 300 log records a minute over gRPC and 60 spans over
		// HTTP (16/s); the counters of one receiver share their labels. gateway-1 never refused.
		{series("otelcol_receiver_refused_spans_total", pods[0], `,receiver="otlp",transport="grpc"`), "0+600x10"},
		{series("otelcol_receiver_refused_spans_total", pods[0], `,receiver="otlp",transport="http"`), "0+60x10"},
		{series("otelcol_receiver_refused_log_records_total", pods[0], `,receiver="otlp",transport="grpc"`), "0+300x10"},
		{series("otelcol_process_uptime_seconds_total", pods[0], ""), "0+60x10"},
		{series("otelcol_process_uptime_seconds_total", pods[1], ""), "0+60x10"},
		// Another namespace's collector must not count.
		{`otelcol_receiver_refused_spans_total{namespace="other",pod="otelcol-virt-gateway-0"}`, "0+6000x10"},
	}
	want := map[string]map[string]float64{
		"otelcol_exporter_queue_fill_ratio":         {pods[0]: 314572800.0 / 1073741824, pods[1]: 0},
		"otelcol_receiver_refused_items_per_second": {pods[0]: 16, pods[1]: 0},
	}

	var tests strings.Builder
	tests.WriteString("evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, in := range inputs {
		fmt.Fprintf(&tests, "      - series: %s\n        values: %q\n", yamlQuote(in.series), in.values)
	}
	tests.WriteString("    promql_expr_test:\n")
	for _, r := range cfg.Rules {
		m := seriesName.FindStringSubmatch(r.SeriesQuery)
		if m == nil {
			t.Fatalf("rule %s: seriesQuery %q names no series", r.Name.As, r.SeriesQuery)
		}
		if !regexp.MustCompile(r.Name.Matches).MatchString(m[1]) {
			t.Errorf("rule %s: name.matches %q does not match its series %s", r.Name.As, r.Name.Matches, m[1])
		}
		for label, res := range r.Resources.Overrides {
			if label != res.Resource || (label != "namespace" && label != "pod") {
				t.Errorf("rule %s: override %s -> %s; the PodMonitor's labels are namespace and pod", r.Name.As, label, res.Resource)
			}
		}
		exp, ok := want[r.Name.As]
		if !ok {
			t.Errorf("rule %s: no expectation for this metric", r.Name.As)
			continue
		}
		fmt.Fprintf(&tests, "      - expr: %s\n        eval_time: 8m\n        exp_samples:\n", yamlQuote(renderAdapterQuery(t, m[1], r.MetricsQuery, ns, pods)))
		for _, pod := range pods {
			fmt.Fprintf(&tests, "          - labels: '{pod=%q}'\n            value: %g\n", pod, exp[pod])
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "adapter.test.yaml"), []byte(tests.String()))
	if out, err := runPromtool(t, dir, "test", "rules", "adapter.test.yaml"); err != nil {
		data, _ := os.ReadFile(filepath.Join(dir, "adapter.test.yaml"))
		t.Fatalf("the adapter's queries do not give the expected values: %v\n%s\n%s", err, out, data)
	}
}

// yamlQuote quotes a one-line YAML scalar (a PromQL expression is folded onto one line).
func yamlQuote(s string) string {
	b, _ := json.Marshal(strings.Join(strings.Fields(s), " ")) // a JSON string is a YAML scalar
	return string(b)
}
