package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

const composeDir = "examples/compose"

// loadCompose loads Compose files with compose-go, the library `docker compose` itself uses:
// schema validation, interpolation, merging of overrides and path resolution included.
func loadCompose(t *testing.T, files ...string) *types.Project {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, repoPath(composeDir, f))
	}
	opts, err := cli.NewProjectOptions(paths,
		cli.WithWorkingDirectory(repoPath(composeDir)),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose %v does not load: %v", files, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("compose: %v", err)
	}
	return s
}

func bindMounts(s types.ServiceConfig) map[string]types.ServiceVolumeConfig {
	out := map[string]types.ServiceVolumeConfig{}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			out[v.Target] = v
		}
	}
	return out
}

func checkLockedDown(t *testing.T, where string, s types.ServiceConfig) {
	t.Helper()
	if !s.ReadOnly {
		t.Errorf("%s: read_only root filesystem expected", where)
	}
	if !slices.Equal(s.CapDrop, []string{"ALL"}) {
		t.Errorf("%s: cap_drop must be [ALL], got %v", where, s.CapDrop)
	}
	if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("%s: security_opt no-new-privileges:true expected", where)
	}
}

// sidecarArgs returns the --config file (as a host path, through the bind mounts) and the other
// arguments of the sidecar's command.
func sidecarArgs(t *testing.T, s types.ServiceConfig) (string, []string) {
	t.Helper()
	var config string
	var rest []string
	for _, a := range s.Command {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			m, ok := bindMounts(s)[p]
			if !ok {
				t.Fatalf("otelcol-virt: --config=%s is not bind-mounted", p)
			}
			if !m.ReadOnly {
				t.Errorf("otelcol-virt: the config mount should be read-only")
			}
			config = m.Source
		} else {
			rest = append(rest, a)
		}
	}
	if config == "" {
		t.Fatal("otelcol-virt: no --config= in the command")
	}
	return config, rest
}

func TestComposeSidecar(t *testing.T) {
	p := loadCompose(t, "compose.yaml")
	for _, name := range []string{"app", "loadgen", "otelcol-virt", "prometheus", "grafana", "jaeger"} {
		service(t, p, name)
	}
	app := service(t, p, "app")
	side := service(t, p, "otelcol-virt")

	// It sees the app: the app's pid namespace, the host's cgroup namespace and hierarchy.
	if side.Pid != "service:app" {
		t.Errorf("otelcol-virt: pid %q, want service:app", side.Pid)
	}
	if side.Cgroup != "host" {
		t.Errorf("otelcol-virt: cgroup %q, want host (so /proc/<pid>/cgroup paths resolve under /sys/fs/cgroup)", side.Cgroup)
	}
	cg, ok := bindMounts(side)["/sys/fs/cgroup"]
	if !ok || cg.Source != "/sys/fs/cgroup" || !cg.ReadOnly {
		t.Errorf("otelcol-virt: /sys/fs/cgroup must be bind-mounted read-only from the host, got %+v", cg)
	}
	if _, ok := side.DependsOn["app"]; !ok {
		t.Error("otelcol-virt: must depend on app, whose pid namespace it joins")
	}
	// Least privilege: same uid as the app, so /proc/<pid>/fd and exe are readable without any
	// capability.
	checkLockedDown(t, "otelcol-virt", side)
	checkLockedDown(t, "app", app)
	if len(side.CapAdd) != 0 {
		t.Errorf("otelcol-virt: adds %v; the sidecar needs none", side.CapAdd)
	}
	if side.User == "" || side.User != app.User || strings.HasPrefix(side.User, "0") {
		t.Errorf("otelcol-virt: user %q should be the app's non-root user %q", side.User, app.User)
	}
	// The image is the repository's Dockerfile.
	if side.Build == nil || side.Build.Context != repoPath() || side.Build.Dockerfile != "Dockerfile" {
		t.Errorf("otelcol-virt: must build the repository's Dockerfile, got %+v", side.Build)
	}

	// The app is limited as Wasm hosts should be (the receiver then reports limits, not the
	// missing-limits posture).
	if app.Deploy == nil || app.Deploy.Resources.Limits == nil {
		t.Fatal("app: no resource limits")
	}
	lim := app.Deploy.Resources.Limits
	if lim.NanoCPUs <= 0 || lim.MemoryBytes <= 0 || lim.MemoryBytes > 128<<20 || lim.Pids <= 0 {
		t.Errorf("app: limits cpus=%v memory=%d pids=%d; want all set, memory at most 128 MiB", lim.NanoCPUs, lim.MemoryBytes, lim.Pids)
	}

	// The config it runs is valid, and the other services point at its listeners.
	configPath, args := sidecarArgs(t, side)
	config, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	validateCollectorConfig(t, "compose sidecar", config, args, nil)
	cfg := parseCollectorConfig(t, configPath, config)
	grpcPort, _ := lookup(map[string]any(cfg.Receivers["otlp"]), "protocols", "grpc", "endpoint")
	_, port, _ := strings.Cut(grpcPort.(string), ":")
	loadgen := service(t, p, "loadgen")
	if !slices.Contains(loadgen.Command, "--otlp-endpoint=otelcol-virt:"+port) {
		t.Errorf("loadgen: does not send to otelcol-virt:%s (%v)", port, loadgen.Command)
	}
	if _, ok := cfg.Receivers["wasm_runtime"]; !ok {
		t.Error("sidecar config: no wasm_runtime receiver")
	}
	// edge_profile's state directory must be writable: a tmpfs owned by the sidecar's user.
	stateDir, _ := lookup(yamlMap(t, configPath, config), "extensions", "edge_profile", "storage_directory")
	uid, _, _ := strings.Cut(side.User, ":")
	writable := false
	for _, tm := range side.Tmpfs {
		target, opts, _ := strings.Cut(tm, ":")
		writable = writable || (target == stateDir && slices.Contains(strings.Split(opts, ","), "uid="+uid))
	}
	if !writable {
		t.Errorf("otelcol-virt: storage_directory %v is not a tmpfs owned by uid %s (tmpfs %v)", stateDir, uid, side.Tmpfs)
	}
	checkComposeBackend(t, p, cfg)
}

// checkComposeBackend: Prometheus scrapes the sidecar's exporter and loads the repository's
// rules, Grafana gets the dashboard and a datasource of the uid the dashboard uses.
func checkComposeBackend(t *testing.T, p *types.Project, cfg collectorConfig) {
	t.Helper()
	prom := service(t, p, "prometheus")
	mounts := bindMounts(prom)
	promCfg, ok := mounts["/etc/prometheus/prometheus.yml"]
	if !ok {
		t.Fatal("prometheus: prometheus.yml is not mounted")
	}
	var pc struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	data, err := os.ReadFile(promCfg.Source)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &pc); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	exporterPort := endpointPort(t, cfg.Exporters["prometheus"]["endpoint"].(string))
	if !slices.Contains(targets, "otelcol-virt:"+itoa(exporterPort)) {
		t.Errorf("prometheus: scrapes %v, not the sidecar's exporter on port %d", targets, exporterPort)
	}
	// The rule glob, seen from the host through the mounts, must find the repository's rules.
	found := 0
	for _, rf := range pc.RuleFiles {
		for target, m := range mounts {
			if rel, ok := strings.CutPrefix(rf, target+"/"); ok {
				matches, _ := filepath.Glob(filepath.Join(m.Source, rel))
				found += len(matches)
			}
		}
	}
	if found == 0 {
		t.Errorf("prometheus: rule_files %v find no file through the mounts", pc.RuleFiles)
	}
	checkPromtoolConfig(t, promCfg.Source, pc.RuleFiles, mounts)

	graf := service(t, p, "grafana")
	gm := bindMounts(graf)
	var provider struct {
		APIVersion int `json:"apiVersion"`
		Providers  []struct {
			Name            string `json:"name"`
			Type            string `json:"type"`
			DisableDeletion bool   `json:"disableDeletion"`
			Options         struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	prov := gm["/etc/grafana/provisioning"]
	data, err = os.ReadFile(filepath.Join(prov.Source, "dashboards", "otelcol-virt.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &provider); err != nil {
		t.Fatalf("grafana dashboard provider: %v", err)
	}
	dashDir, ok := gm[provider.Providers[0].Options.Path]
	if !ok {
		t.Fatalf("grafana: dashboards path %s is not mounted", provider.Providers[0].Options.Path)
	}
	dashboards, _ := filepath.Glob(filepath.Join(dashDir.Source, "*.json"))
	if len(dashboards) == 0 {
		t.Errorf("grafana: no dashboard in %s", dashDir.Source)
	}
	var ds struct {
		Datasources []struct {
			UID  string `json:"uid"`
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"datasources"`
	}
	data, err = os.ReadFile(filepath.Join(prov.Source, "datasources", "prometheus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || !strings.HasPrefix(ds.Datasources[0].URL, "http://prometheus:") {
		t.Errorf("grafana: want one prometheus datasource at http://prometheus:..., got %+v", ds.Datasources)
	}
}

// checkPromtoolConfig runs `promtool check config` on the Compose Prometheus config, with the
// rule file paths rewritten from the container's view to the host's through the mounts.
func checkPromtoolConfig(t *testing.T, path string, ruleFiles []string, mounts map[string]types.ServiceVolumeConfig) {
	t.Helper()
	promtool := promtoolPath(t)
	if promtool == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, rf := range ruleFiles {
		for target, m := range mounts {
			if rel, ok := strings.CutPrefix(rf, target+"/"); ok {
				text = strings.ReplaceAll(text, rf, filepath.Join(m.Source, rel))
			}
		}
	}
	tmp := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "config", tmp).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

func TestComposeHostOverride(t *testing.T) {
	p := loadCompose(t, "compose.yaml", "compose.host.yaml")
	side := service(t, p, "otelcol-virt")
	if side.Pid != "host" {
		t.Errorf("host mode: pid %q, want host", side.Pid)
	}
	mounts := bindMounts(side)
	configPath, args := sidecarArgs(t, side)
	rootPath := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--set=receivers::wasm_runtime::root_path="); ok {
			rootPath = v
		}
	}
	if rootPath == "" {
		t.Fatal("host mode: the command must set the wasm_runtime root_path")
	}
	for host, inside := range map[string]string{"/proc": rootPath + "/proc", "/sys/fs/cgroup": rootPath + "/sys/fs/cgroup"} {
		m, ok := mounts[inside]
		if !ok || m.Source != host || !m.ReadOnly {
			t.Errorf("host mode: %s must be mounted read-only at %s, got %+v", host, inside, m)
		}
	}
	// The same capabilities as the DaemonSet, as uid 0 (Docker, like Kubernetes, gives added
	// capabilities to uid 0 only), and nothing else.
	added := slices.Clone(side.CapAdd)
	slices.Sort(added)
	var want []string
	for _, c := range agentCapabilities {
		want = append(want, string(c))
	}
	if !slices.Equal(added, want) {
		t.Errorf("host mode: cap_add %v, want %v", added, want)
	}
	if side.User != "0:0" {
		t.Errorf("host mode: user %q; added capabilities need uid 0", side.User)
	}
	checkLockedDown(t, "otelcol-virt (host mode)", side)
	if !slices.Equal(side.Tmpfs, []string{"/var/lib/otelcol-virt:uid=0,gid=0,mode=0700,size=16m"}) {
		t.Errorf("host mode: the state tmpfs must belong to uid 0, got %v", side.Tmpfs)
	}
	config, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	validateCollectorConfig(t, "compose host mode", config, args, nil)
}

func TestComposeAppImage(t *testing.T) {
	// The demo app's Dockerfile parses with BuildKit, runs as non-root, and the module builds
	// for WASI with the pinned wazero in the image.
	df := parseDockerfileAt(t, composeDir+"/app/Dockerfile")
	final := df.stages[len(df.stages)-1]
	users := commandsOf[*instructionsUser](final)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1].User, "0") {
		t.Error("app image: must run as a non-root USER")
	}
	if got, want := df.metaArgs["WAZERO_VERSION"], makeVariable(t, "WAZERO_VERSION"); got != want {
		t.Errorf("app image: WAZERO_VERSION %s, the Makefile pins %s", got, want)
	}
	if testing.Short() {
		t.Skip("-short: not compiling the Wasm module")
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "app.wasm"), "./"+composeDir+"/app")
	cmd.Dir = repoPath()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("building the demo module for wasip1: %v\n%s", err, out)
	}
}
