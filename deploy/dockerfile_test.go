package deploy

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// dockerfile is the Dockerfile as BuildKit's own front end reads it.
type dockerfile struct {
	stages   []instructions.Stage
	metaArgs map[string]string
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	return parseDockerfileAt(t, "Dockerfile")
}

// instructionsUser is the USER instruction type, named for brevity in generic calls.
type instructionsUser = instructions.UserCommand

func parseDockerfileAt(t *testing.T, rel string) dockerfile {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(readRepoFile(t, rel)))
	if err != nil {
		t.Fatalf("%s does not parse: %v", rel, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s parser warning: %s", rel, w.Short)
	}
	var lintWarnings []string
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		lintWarnings = append(lintWarnings, rule+": "+msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("%s instructions: %v", rel, err)
	}
	for _, w := range lintWarnings {
		t.Errorf("%s lint: %s", rel, w)
	}
	df := dockerfile{stages: stages, metaArgs: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				df.metaArgs[kv.Key] = *kv.Value
			}
		}
	}
	return df
}

func commandsOf[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestDockerfileBuildStage(t *testing.T) {
	df := parseDockerfile(t)
	if len(df.stages) < 2 {
		t.Fatalf("want a multi-stage build (build, then a minimal runtime), got %d stage(s)", len(df.stages))
	}
	build := df.stages[0]

	// The builder version is the Makefile's, so the image is the binary `make build` produces.
	if got, want := df.metaArgs["BUILDER_VERSION"], makeVariable(t, "BUILDER_VERSION"); got != want {
		t.Errorf("ARG BUILDER_VERSION=%q, Makefile pins %q", got, want)
	}
	// The Go image is at least as new as go.mod asks.
	goMod := goDirective(t)
	if v := df.metaArgs["GO_VERSION"]; compareVersions(v, goMod) < 0 {
		t.Errorf("ARG GO_VERSION=%q is older than go.mod's go %s", v, goMod)
	}
	if !strings.Contains(build.BaseName, "${GO_VERSION}") && !strings.Contains(build.BaseName, "$GO_VERSION") {
		t.Errorf("build stage FROM %q does not use ARG GO_VERSION", build.BaseName)
	}

	// Static: CGO off in the stage's environment, and no cgo switched on in the manifest.
	cgoOff := false
	for _, env := range commandsOf[*instructions.EnvCommand](build) {
		for _, kv := range env.Env {
			if kv.Key == "CGO_ENABLED" && kv.Value == "0" {
				cgoOff = true
			}
		}
	}
	if !cgoOff {
		t.Error("build stage must set ENV CGO_ENABLED=0 (the runtime stage has no libc)")
	}
	manifest := yamlMap(t, "builder-config.yaml", readRepoFile(t, "builder-config.yaml"))
	if v, ok := lookup(manifest, "dist", "cgo_enabled"); ok && v == true {
		t.Error("builder-config.yaml sets dist.cgo_enabled: true; the image needs a static binary")
	}

	// The build runs the pinned builder on the main manifest and checks the result is static.
	var runs []string
	for _, r := range commandsOf[*instructions.RunCommand](build) {
		runs = append(runs, strings.Join(r.CmdLine, " "))
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{
		"go install go.opentelemetry.io/collector/cmd/builder@${BUILDER_VERSION}",
		"builder --config builder-config.yaml",
		"grep -q 'CGO_ENABLED=0'",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("build stage RUN commands lack %q", want)
		}
	}
}

func TestDockerfileRuntimeStage(t *testing.T) {
	df := parseDockerfile(t)
	final := df.stages[len(df.stages)-1]

	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") && final.BaseName != "scratch" {
		t.Errorf("runtime stage FROM %q: want distroless/static or scratch", final.BaseName)
	}
	if final.BaseName == "scratch" {
		// scratch has no CA bundle: it must be copied in.
		found := false
		for _, c := range commandsOf[*instructions.CopyCommand](final) {
			found = found || strings.Contains(c.DestPath, "ca-certificates")
		}
		if !found {
			t.Error("a scratch runtime stage must COPY a CA bundle")
		}
	}

	users := commandsOf[*instructions.UserCommand](final)
	if len(users) == 0 {
		t.Fatal("runtime stage has no USER: it would run as root")
	}
	user := users[len(users)-1].User
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	if err != nil {
		t.Errorf("USER %q: use a numeric uid so that Kubernetes runAsNonRoot can verify it", user)
	} else if n == 0 {
		t.Errorf("USER %q is root", user)
	}

	entrypoints := commandsOf[*instructions.EntrypointCommand](final)
	if len(entrypoints) != 1 || entrypoints[0].PrependShell {
		t.Fatal("runtime stage needs exactly one exec-form ENTRYPOINT (the image has no shell)")
	}
	binary := entrypoints[0].CmdLine[0]
	copiedBinary := false
	for _, c := range commandsOf[*instructions.CopyCommand](final) {
		if c.From == df.stages[0].Name && c.DestPath == binary {
			copiedBinary = true
		}
	}
	if !copiedBinary {
		t.Errorf("ENTRYPOINT %s is not copied from the build stage", binary)
	}

	labels := map[string]string{}
	for _, l := range commandsOf[*instructions.LabelCommand](final) {
		for _, kv := range l.Labels {
			labels[kv.Key] = kv.Value
		}
	}
	for _, k := range []string{"title", "description", "version", "source"} {
		if labels["org.opencontainers.image."+k] == "" {
			t.Errorf("missing OCI label org.opencontainers.image.%s", k)
		}
	}
	if got, want := df.metaArgs["VERSION"], mustString(t, manifest(t), "dist", "version"); got != want {
		t.Errorf("ARG VERSION=%q, builder-config.yaml dist.version is %q", got, want)
	}

	exposed := map[string]bool{}
	for _, e := range commandsOf[*instructions.ExposeCommand](final) {
		for _, p := range e.Ports {
			exposed[p] = true
		}
	}
	cmd := defaultCommand(t, final)
	for _, arg := range cmd {
		if v, ok := strings.CutPrefix(arg, "--set="); ok && strings.Contains(v, "endpoint=") {
			_, port, _ := strings.Cut(v[strings.Index(v, "=")+1:], ":")
			if !exposed[port] {
				t.Errorf("%s listens on port %s, which is not EXPOSEd", arg, port)
			}
		}
	}
	if !exposed["13133"] {
		t.Error("the health_check port 13133 is not EXPOSEd")
	}
}

func defaultCommand(t *testing.T, final instructions.Stage) []string {
	t.Helper()
	cmds := commandsOf[*instructions.CmdCommand](final)
	if len(cmds) != 1 || cmds[0].PrependShell {
		t.Fatal("runtime stage needs exactly one exec-form CMD with the default arguments")
	}
	return cmds[0].CmdLine
}

// TestDockerfileDefaultConfigValidates runs the image's default command line through the real
// binary: the config COPYed into the image, with the CMD's --set overrides.
func TestDockerfileDefaultConfigValidates(t *testing.T) {
	df := parseDockerfile(t)
	final := df.stages[len(df.stages)-1]
	inImage := map[string]string{} // path in the image -> path in the build context
	for _, c := range commandsOf[*instructions.CopyCommand](final) {
		if c.From == "" && len(c.SourcePaths) == 1 {
			inImage[c.DestPath] = c.SourcePaths[0]
		}
	}
	var configSource string
	var sets []string
	for _, arg := range defaultCommand(t, final) {
		switch {
		case strings.HasPrefix(arg, "--config="):
			p := strings.TrimPrefix(arg, "--config=")
			src, ok := inImage[p]
			if !ok {
				t.Fatalf("CMD uses %s, which no COPY puts into the image", p)
			}
			configSource = src
		case strings.HasPrefix(arg, "--set="):
			sets = append(sets, arg)
		default:
			t.Fatalf("unexpected CMD argument %q", arg)
		}
	}
	if configSource == "" {
		t.Fatal("CMD has no --config")
	}
	validateCollectorConfig(t, "image default ("+configSource+")", readRepoFile(t, configSource), sets, nil)

	// The overrides must take effect: a wrong key under any of them is rejected.
	broken := append([]string(nil), sets...)
	broken[0] = strings.Replace(broken[0], "endpoint=", "endpoint_typo=", 1)
	if err := runValidate(t, readRepoFile(t, configSource), broken, nil); err == nil {
		t.Error("validate accepted a misspelt --set key; the check above proves nothing")
	}
}

// componentSources lists, relative to the repository, the Go files (and embedded files) of every
// package of this module that the distribution compiles: the components builder-config.yaml
// imports and their dependencies inside the module.
func componentSources(t *testing.T) []string {
	t.Helper()
	const module = "github.com/otelcol-virt/otelcol-virt"
	var imports []string
	for _, section := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		list, _ := manifest(t)[section].([]any)
		for _, c := range list {
			if imp, ok := c.(map[string]any)["import"].(string); ok && strings.HasPrefix(imp, module) {
				imports = append(imports, imp)
			}
		}
	}
	if len(imports) == 0 {
		t.Fatal("builder-config.yaml imports no component of this module")
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}|{{.Dir}}|{{join .GoFiles \",\"}}|{{join .EmbedFiles \",\"}}"}, imports...)...)
	cmd.Dir = repoPath()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", imports, err)
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 4 || !strings.HasPrefix(parts[0], module) {
			continue
		}
		rel, err := filepath.Rel(repoPath(), parts[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Split(parts[2]+","+parts[3], ",") {
			if f != "" {
				files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	return files
}

// TestDockerignoreKeepsTheBuildInputs applies .dockerignore the way BuildKit does to the files of
// the repository and checks that everything the build needs is sent, and the bulk is not.
func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(readRepoFile(t, ".dockerignore")))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(p string) bool {
		m, err := pm.MatchesOrParentMatches(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return m
	}
	out, err := exec.Command("git", "-C", repoPath(), "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("listing the repository files needs git: %v", err)
	}
	files := map[string]bool{}
	for _, f := range strings.Fields(string(out)) {
		files[f] = true
	}
	needed := []string{"go.mod", "go.sum", "builder-config.yaml"}
	needed = append(needed, componentSources(t)...)
	for _, f := range needed {
		if !files[f] {
			t.Errorf("build input %s is not a file of the repository", f)
		}
	}
	df := parseDockerfile(t)
	for _, s := range df.stages {
		for _, c := range commandsOf[*instructions.CopyCommand](s) {
			if c.From == "" {
				for _, src := range c.SourcePaths {
					if src != "." {
						needed = append(needed, path.Clean(src))
					}
				}
			}
		}
	}
	if len(needed) < 5 {
		t.Fatalf("found only %d build inputs; the file listing is broken", len(needed))
	}
	for _, f := range needed {
		if excluded(f) {
			t.Errorf(".dockerignore excludes %s, which the build needs", f)
		}
	}
	for _, f := range []string{".git/HEAD", "bin/otelcol-virt", ".tools/builder", "distributions/otelcol-virt/otelcol-virt"} {
		if !excluded(f) {
			t.Errorf(".dockerignore sends %s to the build context", f)
		}
	}
}

func manifest(t *testing.T) map[string]any {
	return yamlMap(t, "builder-config.yaml", readRepoFile(t, "builder-config.yaml"))
}

func mustString(t *testing.T, m map[string]any, keys ...string) string {
	t.Helper()
	v, ok := lookup(m, keys...)
	if !ok {
		t.Fatalf("missing %s", strings.Join(keys, "."))
	}
	return fmt.Sprint(v)
}

// goDirective returns the version of go.mod's go directive.
func goDirective(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(string(readRepoFile(t, "go.mod")), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("go.mod has no go directive")
	return ""
}

// compareVersions compares dotted numeric versions (1.26.8 vs 1.26.0).
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// TestMakeImageTarget checks what `make image` would run (there is no Docker engine here): it
// builds this Dockerfile with the Makefile's pinned builder and tags the manifest's version.
func TestMakeImageTarget(t *testing.T) {
	cmd := exec.Command("make", "-s", "-n", "image")
	cmd.Dir = repoPath()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n image: %v", err)
	}
	line := strings.Join(strings.Fields(strings.ReplaceAll(string(out), "\\\n", " ")), " ")
	version := mustString(t, manifest(t), "dist", "version")
	for _, want := range []string{
		"docker build",
		"-f Dockerfile .",
		"-t otelcol-virt:" + version,
		"--build-arg VERSION=" + version,
		"--build-arg BUILDER_VERSION=" + parseDockerfile(t).metaArgs["BUILDER_VERSION"],
	} {
		if !strings.Contains(line, want) {
			t.Errorf("make image runs %q, which lacks %q", line, want)
		}
	}
}

// TestDockerfileBuildStageRuns replays the build stage without a Docker engine: the build
// context as BuildKit sends it (the repository filtered by .dockerignore), the stage's ENV,
// WORKDIR, COPY and RUN instructions in order, run by sh. Two adaptations, both stated: the
// builder is the one `make tools` installed (the test above pins it to the Dockerfile's
// version instead of downloading it again), and absolute paths outside WORKDIR (/out) are
// placed under a temporary directory. The result must be a static binary that validates the
// image's default command line.
func TestDockerfileBuildStageRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the distribution from the Docker build context")
	}
	builder := e2e.Tool(t, "builder")
	df := parseDockerfile(t)
	build := df.stages[0]
	root := t.TempDir()
	context := filepath.Join(root, "context")
	copyBuildContext(t, context)

	outside := filepath.Join(root, "fs") // stands for the stage's / outside WORKDIR
	env := append(os.Environ(), "PATH="+filepath.Dir(builder)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range df.metaArgs {
		env = append(env, k+"="+v)
	}
	workdir := ""
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env = append(env, kv.Key+"="+kv.Value)
			}
		case *instructions.WorkdirCommand:
			workdir = filepath.Join(outside, c.Path)
			if err := os.MkdirAll(workdir, 0o755); err != nil {
				t.Fatal(err)
			}
		case *instructions.CopyCommand:
			if c.From != "" {
				t.Fatalf("build stage COPY --from=%s is not replayed", c.From)
			}
			for _, src := range c.SourcePaths {
				copyTree(t, filepath.Join(context, src), workdir)
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if strings.HasPrefix(line, "go install go.opentelemetry.io/collector/cmd/builder@") {
				continue // the pinned builder from .tools is on PATH
			}
			line = strings.ReplaceAll(line, " /out/", " "+outside+"/out/")
			cmd := exec.Command("sh", "-ec", line)
			cmd.Dir, cmd.Env = workdir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("RUN %s: %v\n%s", line, err, out)
			}
		default:
			t.Fatalf("build stage instruction %T is not replayed", c)
		}
	}
	bin := filepath.Join(outside, "out", "otelcol-virt")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the build stage produced no binary at /out/otelcol-virt: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter: it is dynamically linked")
		}
	}
	f.Close()

	// The image's default command line, run by this binary.
	final := df.stages[len(df.stages)-1]
	var args []string
	for _, a := range defaultCommand(t, final) {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			for _, c := range commandsOf[*instructions.CopyCommand](final) {
				if c.From == "" && c.DestPath == p {
					a = "--config=" + filepath.Join(context, c.SourcePaths[0])
				}
			}
		}
		args = append(args, a)
	}
	out, err := exec.Command(bin, append([]string{"validate"}, args...)...).CombinedOutput()
	if err != nil {
		t.Errorf("the built binary rejects the image's default command line: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "components").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wasm_runtime") {
		t.Errorf("the built binary lacks wasm_runtime: %v\n%s", err, out)
	}
}

// copyBuildContext copies the repository's files as BuildKit sends them: tracked and untracked
// but not git-ignored files, minus what .dockerignore excludes.
func copyBuildContext(t *testing.T, dst string) {
	t.Helper()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(readRepoFile(t, ".dockerignore")))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", repoPath(), "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("listing the repository files needs git: %v", err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if excluded, _ := pm.MatchesOrParentMatches(f); excluded {
			continue
		}
		data, err := os.ReadFile(repoPath(f))
		if err != nil {
			continue // deleted in the work tree
		}
		info, _ := os.Stat(repoPath(f))
		writeFileMode(t, filepath.Join(dst, f), data, info.Mode().Perm())
	}
}

// copyTree copies src (a file or a directory) into the directory dst, as COPY does.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFileMode(t, filepath.Join(dst, filepath.Base(src)), data, info.Mode().Perm())
		return
	}
	err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		writeFileMode(t, filepath.Join(dst, rel), data, fi.Mode().Perm())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFileMode(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}
