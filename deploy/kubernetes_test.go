package deploy

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	k8sDir        = "examples/kubernetes"
	agentConfigCM = "otelcol-virt-agent"
	gatewayCM     = "otelcol-virt-gateway"
	// hostRoot is where the agent mounts the host's /proc and /sys/fs/cgroup; the receiver's
	// root_path must name it.
	hostRoot = "/hostfs"
)

var overlays = []string{"edge", "cloud", "hybrid"}

// strictDecoder decodes YAML manifests into the typed k8s.io/api objects and rejects unknown
// and duplicate fields, as `kubectl apply --validate=strict` does.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme, policyv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
}

// decodeManifests decodes every document of a multi-document YAML stream.
func decodeManifests(t *testing.T, name string, data []byte) []runtime.Object {
	t.Helper()
	dec := strictDecoder(t)
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Errorf("%s: does not decode strictly: %v", name, err)
			continue
		}
		objs = append(objs, obj)
	}
	return objs
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// TestKubernetesFilesDecodeStrictly decodes every manifest file as it is on disk, and every
// kustomization.yaml into kustomize's own type, rejecting unknown fields.
func TestKubernetesFilesDecodeStrictly(t *testing.T) {
	var manifests, kustomizations int
	err := filepath.WalkDir(repoPath(k8sDir), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoPath(), path)
		switch base := filepath.Base(path); {
		case base == "kustomization.yaml":
			var k types.Kustomization
			if err := yaml.UnmarshalStrict(data, &k); err != nil {
				t.Errorf("%s: %v", rel, err)
			}
			kustomizations++
		case base == "agent.yaml" || base == "gateway.yaml":
			// Collector configurations: validated by the binary in TestKubernetesConfigMapsValidate.
		case base == "agent-resources.yaml":
			// A strategic-merge patch: partial on purpose, but its fields must exist.
			decodeManifests(t, rel, data)
		default:
			if len(decodeManifests(t, rel, data)) == 0 {
				t.Errorf("%s: no manifest in the file", rel)
			}
			manifests++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if manifests < 6 || kustomizations != 1+len(overlays) {
		t.Fatalf("found %d manifest files and %d kustomizations; the walk missed files", manifests, kustomizations)
	}
}

// cluster is one overlay built by kustomize and decoded into typed objects.
type cluster struct {
	name         string
	daemonSets   []*appsv1.DaemonSet
	statefulSets []*appsv1.StatefulSet
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	namespaces   []*corev1.Namespace
	accounts     []*corev1.ServiceAccount
	pdbs         []*policyv1.PodDisruptionBudget
}

func buildOverlay(t *testing.T, overlay string) *cluster {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), repoPath(k8sDir, "overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", overlay, err)
	}
	c := &cluster{name: overlay}
	for _, r := range resMap.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range decodeManifests(t, "overlays/"+overlay+": "+r.CurId().String(), data) {
			switch o := obj.(type) {
			case *appsv1.DaemonSet:
				c.daemonSets = append(c.daemonSets, o)
			case *appsv1.StatefulSet:
				c.statefulSets = append(c.statefulSets, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				c.hpas = append(c.hpas, o)
			case *corev1.Service:
				c.services = append(c.services, o)
			case *corev1.ConfigMap:
				c.configMaps = append(c.configMaps, o)
			case *corev1.Namespace:
				c.namespaces = append(c.namespaces, o)
			case *corev1.ServiceAccount:
				c.accounts = append(c.accounts, o)
			case *policyv1.PodDisruptionBudget:
				c.pdbs = append(c.pdbs, o)
			default:
				t.Errorf("overlays/%s: unexpected kind %T", overlay, obj)
			}
		}
	}
	if len(c.daemonSets) != 1 || len(c.statefulSets) != 1 || len(c.hpas) != 1 {
		t.Fatalf("overlays/%s: want one DaemonSet, one StatefulSet and one HorizontalPodAutoscaler, got %d, %d and %d",
			overlay, len(c.daemonSets), len(c.statefulSets), len(c.hpas))
	}
	for _, o := range c.objectMetas() {
		if o.Namespace != "otelcol-virt" && o.Name != "otelcol-virt" {
			t.Errorf("overlays/%s: %s is in namespace %q", overlay, o.Name, o.Namespace)
		}
	}
	return c
}

type meta struct{ Name, Namespace string }

func (c *cluster) objectMetas() []meta {
	var out []meta
	add := func(name, ns string) { out = append(out, meta{name, ns}) }
	for _, o := range c.daemonSets {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.statefulSets {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.hpas {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.services {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.configMaps {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.accounts {
		add(o.Name, o.Namespace)
	}
	for _, o := range c.pdbs {
		add(o.Name, o.Namespace)
	}
	return out
}

// configFor returns the collector configuration a pod template mounts, and the file name.
func (c *cluster) configFor(t *testing.T, spec corev1.PodSpec) (string, []byte) {
	t.Helper()
	ctr := spec.Containers[0]
	var configPath string
	for _, a := range ctr.Args {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			configPath = p
		}
	}
	if configPath == "" {
		t.Fatalf("container %s has no --config= argument", ctr.Name)
	}
	for _, m := range ctr.VolumeMounts {
		if !strings.HasPrefix(configPath, m.MountPath+"/") {
			continue
		}
		key := strings.TrimPrefix(configPath, m.MountPath+"/")
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			for _, cm := range c.configMaps {
				if cm.Name == v.ConfigMap.Name {
					data, ok := cm.Data[key]
					if !ok {
						t.Fatalf("ConfigMap %s has no key %s", cm.Name, key)
					}
					return cm.Name, []byte(data)
				}
			}
			t.Fatalf("volume %s names ConfigMap %s, which the overlay does not create", v.Name, v.ConfigMap.Name)
		}
	}
	t.Fatalf("no ConfigMap volume is mounted at %s", configPath)
	return "", nil
}

// envRefs returns the ${env:NAME} references of a collector configuration.
func envRefs(config []byte) []string {
	var names []string
	for _, m := range regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`).FindAllSubmatch(config, -1) {
		if len(m[2]) == 0 && !slices.Contains(names, string(m[1])) {
			names = append(names, string(m[1]))
		}
	}
	return names
}

func containerEnv(ctr corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		out[e.Name] = e
	}
	return out
}

// TestKubernetesConfigMapsValidate runs the collector configuration of every ConfigMap through
// the real binary, with the environment the pod gives it (the downward API values replaced by
// loopback stand-ins).
func TestKubernetesConfigMapsValidate(t *testing.T) {
	validated := map[string]bool{}
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		for _, pod := range []struct {
			kind string
			spec corev1.PodSpec
		}{{"DaemonSet", c.daemonSets[0].Spec.Template.Spec}, {"StatefulSet", c.statefulSets[0].Spec.Template.Spec}} {
			cmName, config := c.configFor(t, pod.spec)
			env := containerEnv(pod.spec.Containers[0])
			values := map[string]string{}
			for _, name := range envRefs(config) {
				e, ok := env[name]
				if !ok {
					t.Errorf("overlays/%s %s: the config uses ${env:%s}, which the container does not define", overlay, pod.kind, name)
					continue
				}
				switch {
				case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
					values[name] = "127.0.0.1"
				case e.ValueFrom != nil:
					values[name] = "stand-in-" + strings.ToLower(name)
				default:
					values[name] = e.Value
				}
			}
			key := overlay + "/" + cmName
			if strings.HasPrefix(cmName, gatewayCM) {
				key = cmName // the gateway is the same in every overlay
			}
			if validated[key] {
				continue
			}
			validated[key] = true
			validateCollectorConfig(t, "overlays/"+overlay+" ConfigMap "+cmName, config, nil, values)
		}
	}
	if len(validated) != len(overlays)+1 {
		t.Errorf("validated %d configurations, want one agent config per overlay and the gateway's", len(validated))
	}
}

// collectorConfig is the part of a collector configuration the manifests must agree with.
type collectorConfig struct {
	Extensions struct {
		HealthCheck struct {
			Endpoint string `json:"endpoint"`
			Path     string `json:"path"`
		} `json:"health_check"`
		InstanceInventory struct {
			RootPath string `json:"root_path"`
		} `json:"instance_inventory"`
	} `json:"extensions"`
	Receivers  map[string]map[string]any `json:"receivers"`
	Processors map[string]map[string]any `json:"processors"`
	Exporters  map[string]map[string]any `json:"exporters"`
}

func parseCollectorConfig(t *testing.T, name string, data []byte) collectorConfig {
	t.Helper()
	var cfg collectorConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

func endpointPort(t *testing.T, endpoint string) int32 {
	t.Helper()
	i := strings.LastIndex(endpoint, ":")
	p, err := strconv.Atoi(endpoint[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("endpoint %q has no port", endpoint)
	}
	return int32(p)
}

func containerPort(t *testing.T, ctr corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range ctr.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %s", ctr.Name, name)
	return 0
}

func checkProbes(t *testing.T, where string, ctr corev1.Container, cfg collectorConfig) {
	t.Helper()
	healthPort := endpointPort(t, cfg.Extensions.HealthCheck.Endpoint)
	path := cfg.Extensions.HealthCheck.Path
	if path == "" {
		path = "/"
	}
	for name, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", where, name)
			continue
		}
		port := p.HTTPGet.Port.IntVal
		if p.HTTPGet.Port.StrVal != "" {
			port = containerPort(t, ctr, p.HTTPGet.Port.StrVal)
		}
		if port != healthPort || p.HTTPGet.Path != path {
			t.Errorf("%s: %s probe hits %d%s, health_check serves %d%s", where, name, port, p.HTTPGet.Path, healthPort, path)
		}
	}
}

func checkReceiverPorts(t *testing.T, where string, ctr corev1.Container, cfg collectorConfig) {
	t.Helper()
	for proto, portName := range map[string]string{"grpc": "otlp-grpc", "http": "otlp-http"} {
		ep, ok := lookup(map[string]any(cfg.Receivers["otlp"]), "protocols", proto, "endpoint")
		if !ok {
			t.Errorf("%s: otlp receiver has no %s endpoint", where, proto)
			continue
		}
		if got, want := containerPort(t, ctr, portName), endpointPort(t, fmt.Sprint(ep)); got != want {
			t.Errorf("%s: port %s is %d, the otlp %s receiver listens on %d", where, portName, got, proto, want)
		}
		if !strings.HasPrefix(fmt.Sprint(ep), "${env:K8S_POD_IP}:") {
			t.Errorf("%s: otlp %s endpoint %v should listen on the pod IP", where, proto, ep)
		}
	}
}

func checkImage(t *testing.T, where string, ctr corev1.Container) {
	t.Helper()
	want := "ghcr.io/otelcol-virt/otelcol-virt:" + mustString(t, manifest(t), "dist", "version")
	if ctr.Image != want {
		t.Errorf("%s: image %q, want %q (the version of builder-config.yaml)", where, ctr.Image, want)
	}
}

// memoryLimiter returns the memory_limiter's hard limit for a container memory limit.
func memoryLimiterHardLimit(t *testing.T, where string, cfg collectorConfig, containerLimit int64) int64 {
	t.Helper()
	ml := cfg.Processors["memory_limiter"]
	if ml == nil {
		t.Fatalf("%s: no memory_limiter", where)
	}
	if mib, ok := ml["limit_mib"]; ok {
		return int64(mib.(float64)) << 20
	}
	if pct, ok := ml["limit_percentage"]; ok {
		return containerLimit * int64(pct.(float64)) / 100
	}
	t.Fatalf("%s: memory_limiter has neither limit_mib nor limit_percentage", where)
	return 0
}

// checkMemory ties the container's memory to the memory_limiter: the limiter must act (refuse
// data, force GC) before the kernel OOM-kills the container, so the hard limit stays within 80 %
// of the container limit, the request covers it, and GOMEMLIMIT equals it.
func checkMemory(t *testing.T, where string, ctr corev1.Container, cfg collectorConfig) {
	t.Helper()
	limit, ok := ctr.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Fatalf("%s: no memory limit (limit_percentage would take the node's memory)", where)
	}
	request := ctr.Resources.Requests[corev1.ResourceMemory]
	hard := memoryLimiterHardLimit(t, where, cfg, limit.Value())
	if hard*100 > limit.Value()*80 {
		t.Errorf("%s: memory_limiter hard limit %d MiB is above 80 %% of the container limit %s", where, hard>>20, limit.String())
	}
	if request.Value() < hard/2 || request.Cmp(limit) > 0 {
		t.Errorf("%s: memory request %s should lie between half the limiter's %d MiB and the limit %s", where, request.String(), hard>>20, limit.String())
	}
	gomem := containerEnv(ctr)["GOMEMLIMIT"].Value
	q, err := resource.ParseQuantity(strings.TrimSuffix(gomem, "B"))
	if err != nil {
		t.Fatalf("%s: GOMEMLIMIT %q: %v", where, gomem, err)
	}
	if d := q.Value() - hard; d < -(1<<20) || d > 1<<20 {
		t.Errorf("%s: GOMEMLIMIT=%s, want the memory_limiter's hard limit %d MiB", where, gomem, hard>>20)
	}
	if _, ok := ctr.Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Errorf("%s: no CPU request", where)
	}
}

func checkRestrictedContainer(t *testing.T, where string, ctr corev1.Container) {
	t.Helper()
	sc := ctr.SecurityContext
	if sc == nil {
		t.Fatalf("%s: no securityContext", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", where)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: capabilities must drop ALL", where)
	}
}

func seccompRuntimeDefault(pod corev1.PodSpec, ctr corev1.Container) bool {
	if ctr.SecurityContext != nil && ctr.SecurityContext.SeccompProfile != nil {
		return ctr.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
	}
	return pod.SecurityContext != nil && pod.SecurityContext.SeccompProfile != nil &&
		pod.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
}

// agentCapabilities are the capabilities the agent adds, with why (see TestAgentCapabilities,
// which checks each against the kernel).
var agentCapabilities = []corev1.Capability{"DAC_READ_SEARCH", "SYS_PTRACE"}

func TestKubernetesAgentDaemonSet(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			c := buildOverlay(t, overlay)
			ds := c.daemonSets[0]
			pod := ds.Spec.Template.Spec
			where := "overlays/" + overlay + " DaemonSet " + ds.Name
			if len(pod.Containers) != 1 {
				t.Fatalf("%s: want one container", where)
			}
			ctr := pod.Containers[0]
			cmName, data := c.configFor(t, pod)
			cfg := parseCollectorConfig(t, cmName, data)

			if !pod.HostPID {
				t.Errorf("%s: hostPID must be true so the receiver sees the node's runtimes", where)
			}
			if pod.HostNetwork || pod.HostIPC {
				t.Errorf("%s: hostNetwork/hostIPC are not needed", where)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("%s: the agent needs no API token", where)
			}

			// The receiver reads <root_path>/proc and <root_path>/sys: the host's /proc and
			// /sys/fs/cgroup must be mounted there, read-only, and nothing else of the host.
			// The agent's receiver and processor read one inventory, which reads the host.
			if inv, _ := cfg.Receivers["wasm_runtime"]["inventory"].(string); inv != "instance_inventory" {
				t.Errorf("%s: wasm_runtime inventory is %q, want instance_inventory", where, inv)
			}
			if inv, _ := cfg.Processors["virtualization_attributes"]["inventory"].(string); inv != "instance_inventory" {
				t.Errorf("%s: virtualization_attributes inventory is %q, want instance_inventory", where, inv)
			}
			rootPath := cfg.Extensions.InstanceInventory.RootPath
			if rootPath != hostRoot {
				t.Fatalf("%s: instance_inventory root_path is %q, want %q", where, rootPath, hostRoot)
			}
			hostPaths := map[string]string{} // volume -> host path
			for _, v := range pod.Volumes {
				if v.HostPath != nil {
					hostPaths[v.Name] = v.HostPath.Path
					if v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathDirectory {
						t.Errorf("%s: hostPath %s should have type Directory (fail rather than create it)", where, v.HostPath.Path)
					}
				}
			}
			mounted := map[string]string{} // host path -> mount path
			for _, m := range ctr.VolumeMounts {
				hp, ok := hostPaths[m.Name]
				if !ok {
					continue
				}
				if !m.ReadOnly {
					t.Errorf("%s: hostPath %s is mounted writable", where, hp)
				}
				mounted[hp] = m.MountPath
			}
			want := map[string]string{"/proc": rootPath + "/proc", "/sys/fs/cgroup": rootPath + "/sys/fs/cgroup"}
			if fmt.Sprint(mounted) != fmt.Sprint(want) {
				t.Errorf("%s: host mounts %v, want exactly %v", where, mounted, want)
			}

			// Downward API for the node and pod names.
			env := containerEnv(ctr)
			for name, field := range map[string]string{"K8S_NODE_NAME": "spec.nodeName", "K8S_POD_NAME": "metadata.name", "K8S_POD_IP": "status.podIP"} {
				e, ok := env[name]
				if !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != field {
					t.Errorf("%s: %s must come from the downward API field %s", where, name, field)
				}
			}
			if v := cfg.Processors["resource/node"]["attributes"]; !strings.Contains(fmt.Sprint(v), "k8s.node.name") {
				t.Errorf("%s: the config does not set k8s.node.name from the downward API", where)
			}

			checkRestrictedContainer(t, where, ctr)
			if !seccompRuntimeDefault(pod, ctr) {
				t.Errorf("%s: seccomp profile must be RuntimeDefault", where)
			}
			added := slices.Clone(ctr.SecurityContext.Capabilities.Add)
			slices.Sort(added)
			if !slices.Equal(added, agentCapabilities) {
				t.Errorf("%s: adds capabilities %v, want exactly %v", where, added, agentCapabilities)
			}
			// Capabilities added to a non-root container are never effective in Kubernetes.
			if sc := ctr.SecurityContext; sc.RunAsUser == nil || *sc.RunAsUser != 0 {
				t.Errorf("%s: added capabilities only take effect for uid 0; set runAsUser: 0", where)
			}

			checkProbes(t, where, ctr, cfg)
			checkReceiverPorts(t, where, ctr, cfg)
			checkMemory(t, where, ctr, cfg)
			checkImage(t, where, ctr)
			checkAgentPrometheus(t, where, ctr, cfg)
			checkStateDirectory(t, where, pod, ctr, data)
			checkSelectorsAndServices(t, c)
			checkAgentExportsToGateway(t, where, c, cfg)
			checkSampling(t, where, overlay, cfg)
		})
	}
}

func TestKubernetesGatewayStatefulSet(t *testing.T) {
	c := buildOverlay(t, "edge")
	d := c.statefulSets[0]
	pod := d.Spec.Template.Spec
	where := "StatefulSet " + d.Name
	ctr := pod.Containers[0]
	cmName, data := c.configFor(t, pod)
	cfg := parseCollectorConfig(t, cmName, data)

	if pod.HostPID || pod.HostNetwork || pod.HostIPC {
		t.Errorf("%s: the gateway needs no host namespace", where)
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("%s: the gateway needs no hostPath (%s)", where, v.HostPath.Path)
		}
	}
	// Restricted Pod Security Standard: non-root, no capabilities at all.
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: runAsNonRoot must be true", where)
	}
	checkRestrictedContainer(t, where, ctr)
	if len(ctr.SecurityContext.Capabilities.Add) != 0 {
		t.Errorf("%s: the gateway must add no capability", where)
	}
	if !seccompRuntimeDefault(pod, ctr) {
		t.Errorf("%s: seccomp profile must be RuntimeDefault", where)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 3 {
		t.Errorf("%s: run at least 3 replicas", where)
	}
	checkProbes(t, where, ctr, cfg)
	checkReceiverPorts(t, where, ctr, cfg)
	checkMemory(t, where, ctr, cfg)
	checkImage(t, where, ctr)
	if _, ok := cfg.Processors["probabilistic_sampler"]; ok {
		t.Errorf("%s: the gateway must not sample again; the agents decide", where)
	}
	if _, ok := cfg.Exporters["prometheus"]; ok {
		t.Errorf("%s: Prometheus scrapes the agents; behind the gateway replicas a series would hop between targets", where)
	}
	checkGatewayQueue(t, where, d, data)
	checkGatewayScaleIn(t, where, d, data)
	checkGatewayAutoscaler(t, c)
}

// checkAgentPrometheus: the agent serves its node's instances to Prometheus, with the resource
// attributes the rules and dashboard group by as labels, on the port the PodMonitor scrapes.
func checkAgentPrometheus(t *testing.T, where string, ctr corev1.Container, cfg collectorConfig) {
	t.Helper()
	prom := cfg.Exporters["prometheus"]
	if prom == nil {
		t.Fatalf("%s: no prometheus exporter for the alerting rules and dashboard", where)
	}
	if got := containerPort(t, ctr, "prometheus"); got != endpointPort(t, fmt.Sprint(prom["endpoint"])) {
		t.Errorf("%s: container port prometheus %d does not match the exporter endpoint %v", where, got, prom["endpoint"])
	}
	included, _ := lookup(map[string]any(prom), "resource_constant_labels", "included")
	for _, attr := range []string{"wasm_runtime.*", "k8s.node.name", "process.pid"} {
		if !slices.Contains(toStrings(included), attr) {
			t.Errorf("%s: prometheus exporter must turn %s into labels (the rules group by instance and node)", where, attr)
		}
	}
	if prom["translation_strategy"] != "UnderscoreEscapingWithSuffixes" {
		t.Errorf("%s: the rules expect translation_strategy UnderscoreEscapingWithSuffixes, got %v", where, prom["translation_strategy"])
	}
}

// checkStateDirectory: with a read-only root filesystem, edge_profile's storage_directory must
// be a writable volume of the pod's own (an emptyDir, not the host).
func checkStateDirectory(t *testing.T, where string, pod corev1.PodSpec, ctr corev1.Container, config []byte) {
	t.Helper()
	dir, _ := lookup(yamlMap(t, where, config), "extensions", "edge_profile", "storage_directory")
	if dir == nil {
		t.Fatalf("%s: set edge_profile storage_directory; its default is on the read-only root", where)
	}
	for _, m := range ctr.VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil && !m.ReadOnly {
				return
			}
		}
	}
	t.Errorf("%s: storage_directory %v is not a writable emptyDir mount", where, dir)
}

// TestKubernetesPodMonitor: the optional PodMonitor selects the collectors' pods and scrapes
// ports they have.
func TestKubernetesPodMonitor(t *testing.T) {
	objs := decodeManifests(t, "extras/podmonitor.yaml", readRepoFile(t, k8sDir, "extras", "podmonitor.yaml"))
	if len(objs) != 1 {
		t.Fatalf("want one PodMonitor, got %d objects", len(objs))
	}
	pm, ok := objs[0].(*monitoringv1.PodMonitor)
	if !ok {
		t.Fatalf("want a PodMonitor, got %T", objs[0])
	}
	c := buildOverlay(t, "edge")
	if !slices.Contains(pm.Spec.NamespaceSelector.MatchNames, c.daemonSets[0].Namespace) {
		t.Errorf("PodMonitor watches namespaces %v, the agents run in %s", pm.Spec.NamespaceSelector.MatchNames, c.daemonSets[0].Namespace)
	}
	agent := c.daemonSets[0].Spec.Template
	for k, v := range pm.Spec.Selector.MatchLabels {
		if agent.Labels[k] != v {
			t.Errorf("PodMonitor selector %s=%s does not select the agent pods %v", k, v, agent.Labels)
		}
	}
	for _, ep := range pm.Spec.PodMetricsEndpoints {
		if ep.Port == nil {
			t.Errorf("PodMonitor endpoint without a port name")
			continue
		}
		containerPort(t, agent.Spec.Containers[0], *ep.Port)
	}
}

func toStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, e := range list {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

// checkSelectorsAndServices checks that every Service selects pods of a workload and forwards
// to named ports the pods have.
func checkSelectorsAndServices(t *testing.T, c *cluster) {
	t.Helper()
	type workload struct {
		name   string
		labels map[string]string
		ports  map[string]int32
		sel    map[string]string
	}
	var workloads []workload
	addPod := func(name string, tmpl corev1.PodTemplateSpec, sel map[string]string) {
		w := workload{name: name, labels: tmpl.Labels, ports: map[string]int32{}, sel: sel}
		for _, p := range tmpl.Spec.Containers[0].Ports {
			w.ports[p.Name] = p.ContainerPort
		}
		workloads = append(workloads, w)
	}
	for _, d := range c.daemonSets {
		addPod(d.Name, d.Spec.Template, d.Spec.Selector.MatchLabels)
	}
	for _, d := range c.statefulSets {
		addPod(d.Name, d.Spec.Template, d.Spec.Selector.MatchLabels)
	}
	matches := func(sel, labels map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	for _, w := range workloads {
		if !matches(w.sel, w.labels) {
			t.Errorf("%s: selector %v does not match its pod labels %v", w.name, w.sel, w.labels)
		}
	}
	for _, s := range c.services {
		var target *workload
		for i := range workloads {
			if matches(s.Spec.Selector, workloads[i].labels) {
				if target != nil {
					t.Errorf("Service %s selects both %s and %s", s.Name, target.name, workloads[i].name)
				}
				target = &workloads[i]
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no pod", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if _, ok := target.ports[p.TargetPort.StrVal]; !ok {
				t.Errorf("Service %s port %s targets %q, which %s does not expose", s.Name, p.Name, p.TargetPort.String(), target.name)
			}
		}
		if s.Name == "otelcol-virt-agent" && (s.Spec.InternalTrafficPolicy == nil || *s.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal) {
			t.Errorf("Service %s must keep traffic on the node (internalTrafficPolicy: Local)", s.Name)
		}
	}
	for _, o := range c.pdbs {
		found := false
		for _, w := range workloads {
			found = found || matches(o.Spec.Selector.MatchLabels, w.labels)
		}
		if !found {
			t.Errorf("PodDisruptionBudget %s selects no pod", o.Name)
		}
	}
}

// checkAgentExportsToGateway resolves the agent's exporter endpoint to a Service of the
// overlay and checks the port and protocol line up with the gateway's receiver.
func checkAgentExportsToGateway(t *testing.T, where string, c *cluster, cfg collectorConfig) {
	t.Helper()
	otlp := 0
	for id, exp := range cfg.Exporters {
		if !strings.HasPrefix(id, "otlp") {
			continue
		}
		otlp++
		endpoint := fmt.Sprint(exp["endpoint"])
		re := regexp.MustCompile(`^(?:https?://|dns:///)?([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$`)
		m := re.FindStringSubmatch(endpoint)
		if m == nil {
			t.Errorf("%s: exporter %s endpoint %q is not a Service of the cluster", where, id, endpoint)
			continue
		}
		var svc *corev1.Service
		for _, s := range c.services {
			if s.Name == m[1] && s.Namespace == m[2] {
				svc = s
			}
		}
		if svc == nil {
			t.Errorf("%s: exporter %s sends to %s.%s, which the overlay does not define", where, id, m[1], m[2])
			continue
		}
		port, _ := strconv.Atoi(m[3])
		wantPort := "otlp-http"
		if strings.HasPrefix(id, "otlp_grpc") {
			wantPort = "otlp-grpc"
			if !strings.HasPrefix(endpoint, "dns:///") || svc.Spec.ClusterIP != corev1.ClusterIPNone || exp["balancer_name"] != "round_robin" {
				t.Errorf("%s: OTLP/gRPC to the gateway should resolve the headless Service (dns:///) and balance round_robin", where)
			}
		}
		ok := false
		for _, p := range svc.Spec.Ports {
			ok = ok || (p.Name == wantPort && int(p.Port) == port)
		}
		if !ok {
			t.Errorf("%s: exporter %s uses port %d, which Service %s has not as %s", where, id, port, svc.Name, wantPort)
		}
	}
	if otlp != 1 {
		t.Errorf("%s: the agent should send OTLP to the gateway only, has %d OTLP exporters", where, otlp)
	}
}

// presets are the export presets of the project's specification (README, design): batch size
// and timeout, protocol, compression and the share of traces kept.
var presets = map[string]struct {
	batchSize   float64
	timeout     string
	exporter    string
	compression string
	samplingPct float64 // 100: no sampler
}{
	"edge":   {32, "5s", "otlp_http", "gzip", 10},
	"cloud":  {512, "30s", "otlp_grpc", "none", 100},
	"hybrid": {256, "15s", "otlp_grpc", "none", 100},
}

// checkSampling: the agents' sampling decisions must not depend on the node. The edge preset
// keeps 10 % in proportional mode (decided from the trace id's randomness); the others keep all.
func checkSampling(t *testing.T, where, overlay string, cfg collectorConfig) {
	t.Helper()
	want := presets[overlay].samplingPct
	sampler, samples := cfg.Processors["probabilistic_sampler"]
	if samples != (want < 100) {
		t.Fatalf("%s: sampler present=%v, the %s preset keeps %v %% of traces", where, samples, overlay, want)
	}
	if !samples {
		return
	}
	if sampler["mode"] != "proportional" {
		t.Errorf("%s: sampler mode %v; use proportional so decisions come from the trace id alone", where, sampler["mode"])
	}
	if sampler["sampling_percentage"] != want {
		t.Errorf("%s: sampling_percentage %v, the preset keeps %v", where, sampler["sampling_percentage"], want)
	}
}

// TestKubernetesAgentConfigsFollowThePresets keeps the ConfigMaps' copies in step with the
// presets: the settings examples/<preset>.yaml defines for the host (memory_limiter, collection
// interval, profile name) and the export settings of the preset table.
func TestKubernetesAgentConfigsFollowThePresets(t *testing.T) {
	for _, overlay := range overlays {
		preset := yamlMap(t, overlay+".yaml", readRepoFile(t, "examples", overlay+".yaml"))
		agent := yamlMap(t, "agent.yaml", readRepoFile(t, k8sDir, "overlays", overlay, "agent.yaml"))
		for _, path := range [][]string{
			{"extensions", "edge_profile", "profile"},
			{"processors", "memory_limiter"},
			{"receivers", "wasm_runtime", "collection_interval"},
		} {
			want, _ := lookup(preset, path...)
			got, _ := lookup(agent, path...)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("overlays/%s agent.yaml %s = %v, examples/%s.yaml has %v", overlay, strings.Join(path, "."), got, overlay, want)
			}
		}
		spec := presets[overlay]
		if size, _ := lookup(agent, "processors", "batch", "send_batch_size"); size != spec.batchSize {
			t.Errorf("overlays/%s: batch size %v, the preset's is %v", overlay, size, spec.batchSize)
		}
		if timeout, _ := lookup(agent, "processors", "batch", "timeout"); timeout != spec.timeout {
			t.Errorf("overlays/%s: batch timeout %v, the preset's is %v", overlay, timeout, spec.timeout)
		}
		for id, e := range agent["exporters"].(map[string]any) {
			if id == "prometheus" {
				continue
			}
			if proto := strings.SplitN(id, "/", 2)[0]; proto != spec.exporter {
				t.Errorf("overlays/%s: exporter %s, the preset uses %s", overlay, id, spec.exporter)
			}
			if c := fmt.Sprint(e.(map[string]any)["compression"]); c != spec.compression {
				t.Errorf("overlays/%s: compression %s, the preset uses %s", overlay, c, spec.compression)
			}
		}
	}
}

// TestKubernetesPrometheusRuleMatchesTheRules: the PrometheusRule for the Prometheus Operator
// decodes strictly and carries exactly the rules of monitoring/prometheus.
func TestKubernetesPrometheusRuleMatchesTheRules(t *testing.T) {
	objs := decodeManifests(t, "extras/prometheusrule.yaml", readRepoFile(t, k8sDir, "extras", "prometheusrule.yaml"))
	if len(objs) != 1 {
		t.Fatalf("want one PrometheusRule, got %d objects", len(objs))
	}
	pr, ok := objs[0].(*monitoringv1.PrometheusRule)
	if !ok {
		t.Fatalf("want a PrometheusRule, got %T", objs[0])
	}
	data, err := stdjson.Marshal(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var got ruleFile
	if err := stdjson.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := loadRules(t)
	if !reflect.DeepEqual(got, want) {
		g, _ := stdjson.MarshalIndent(got, "", " ")
		w, _ := stdjson.MarshalIndent(want, "", " ")
		t.Errorf("extras/prometheusrule.yaml differs from %s:\n got %s\nwant %s", rulesFile, g, w)
	}
}
