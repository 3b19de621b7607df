package virtualizationattributesprocessor

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// The live tests run the real otelcol-virt-edge binary inside a real sandbox, container or VM,
// next to two helpers built here as static binaries: virtprobe (an OTLP sink and sender around
// the collector: it prints the resource attributes that came out of the pipeline) and
// virtdetect -capture - (the files detection read there, as a fixture archive). The real
// systemd-detect-virt runs in the same environment. One shell script does the three things in
// every environment; its output comes back over stdout or a serial console.
//
// Refresh the live fixtures (internal/virtdetect/testdata/hosts/live-*) from these runs with
//
//	UPDATE_FIXTURES=1 go test -run 'TestLive' ./processor/virtualizationattributesprocessor
//
// Without it, each test checks that the committed fixture still gives the layers seen live.

const liveScript = `B=$1
SDV=$2
if [ -n "$SDV" ] && [ -x "$SDV" ]; then
  echo "SDV-PLAIN $($SDV)"
  echo "SDV-VM $($SDV --vm)"
  echo "SDV-CONTAINER $($SDV --container)"
fi
"$B/virtdetect" -capture -
"$B/virtprobe" -collector "$B/otelcol-virt-edge"
echo "LIVE-SCRIPT-DONE $?"
`

// liveBinaries are the three static binaries every environment gets.
type liveBinaries struct{ dir string }

func buildLiveBinaries(t *testing.T) liveBinaries {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("live environments need linux/amd64 (this is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	dir := t.TempDir()
	edge := e2e.EdgeCollectorBinary(t)
	copyFile(t, edge, filepath.Join(dir, "otelcol-virt-edge"), 0o755)
	root := e2e.RepoRoot()
	for _, cmd := range []string{"virtprobe", "virtdetect"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "./internal/virtdetect/cmd/"+cmd)
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "building %s: %s", cmd, out)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "live.sh"), []byte(liveScript), 0o755))
	return liveBinaries{dir: dir}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	require.NoError(t, os.WriteFile(dst, b, mode))
}

// liveResult is what one environment reported.
type liveResult struct {
	attrs   map[string]any
	layers  []string
	systemd map[string]string // plain, vm, container: the real tool's answers there
	capture string            // directory with root/, cpuid, detected.json
	output  string
}

func parseLiveOutput(t *testing.T, out string) liveResult {
	t.Helper()
	r := liveResult{systemd: map[string]string{}, output: out}
	var archive strings.Builder
	inArchive := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasSuffix(line, "VIRTDETECT-CAPTURE-BEGIN"):
			inArchive = true
		case strings.HasPrefix(line, "VIRTDETECT-CAPTURE-END"):
			inArchive = false
		case inArchive:
			archive.WriteString(strings.TrimSpace(line))
		case strings.Contains(line, "VIRTPROBE-RESULT "):
			_, js, _ := strings.Cut(line, "VIRTPROBE-RESULT ")
			require.NoError(t, json.Unmarshal([]byte(js), &r.attrs), "result line %q", line)
		default:
			for _, k := range []string{"plain", "vm", "container"} {
				if v, ok := strings.CutPrefix(line, "SDV-"+strings.ToUpper(k)+" "); ok {
					r.systemd[k] = strings.TrimSpace(v)
				}
			}
		}
	}
	require.NotNil(t, r.attrs, "no VIRTPROBE-RESULT line in the output:\n%s", tail(out, 4000))
	if l, ok := r.attrs[attrLayers].([]any); ok {
		for _, x := range l {
			r.layers = append(r.layers, fmt.Sprint(x))
		}
	}
	require.NotZero(t, archive.Len(), "no capture archive in the output:\n%s", tail(out, 4000))
	raw, err := base64.StdEncoding.DecodeString(archive.String())
	require.NoError(t, err)
	r.capture = t.TempDir()
	untar(t, raw, r.capture)
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func untar(t *testing.T, gz []byte, dst string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		name := filepath.Clean(h.Name)
		require.False(t, strings.HasPrefix(name, "..") || filepath.IsAbs(name), "archive path %q", h.Name)
		p := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeSymlink:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.Symlink(h.Linkname, p))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}
	}
}

// checkAgainstFixture compares the live answer with the committed fixture of the environment
// (or replaces the fixture with this capture when UPDATE_FIXTURES=1): the layers the binary
// reported, the layers detection found on the captured files there, and the layers of the
// committed fixture must be the same.
func checkAgainstFixture(t *testing.T, name, origin string, r liveResult) {
	t.Helper()
	captured := detectFixtureDir(t, r.capture)
	require.Equal(t, r.layers, captured, "the binary's layers and detection on the files captured beside it")
	dir := filepath.Join(fixturesDir, name)
	if os.Getenv("UPDATE_FIXTURES") == "1" {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.CopyFS(dir, os.DirFS(r.capture)))
		// CopyFS follows no symlinks; the capture's own (ns links, virtio devices) are copied here.
		require.NoError(t, copySymlinks(r.capture, dir))
		_ = os.Remove(filepath.Join(dir, "detected.json"))
		var sdv strings.Builder
		for _, k := range []string{"plain", "vm", "container"} {
			if v, ok := r.systemd[k]; ok {
				fmt.Fprintf(&sdv, "%s %s\n", k, v)
			}
		}
		if sdv.Len() > 0 {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "systemd-detect-virt"), []byte(sdv.String()), 0o644))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "ORIGIN.md"), []byte(origin), 0o644))
		return
	}
	_, err := os.Stat(dir)
	require.NoError(t, err, "fixture %s is missing: rerun with UPDATE_FIXTURES=1", name)
	require.Equal(t, r.layers, detectFixtureDir(t, dir), "fixture %s no longer matches what was seen live: rerun with UPDATE_FIXTURES=1", name)
}

func copySymlinks(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		_ = os.Remove(out)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.Symlink(target, out)
	})
}

func detectFixtureDir(t *testing.T, dir string) []string {
	t.Helper()
	var cpu virtdetect.CPUID = virtdetect.NoCPUID
	if b, err := os.ReadFile(filepath.Join(dir, "cpuid")); err == nil {
		cpu = virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
	}
	h := virtdetect.Detect(virtdetect.NewFS(filepath.Join(dir, "root")), cpu)
	return h.LayerNames()
}

// originText describes where a live fixture came from, from facts read on this machine.
func originText(name, how string, facts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nCaptured live, not reconstructed: %s\n\n", name, how)
	b.WriteString("Written by `UPDATE_FIXTURES=1 go test -run TestLive ./processor/virtualizationattributesprocessor` " +
		"(live_test.go): `virtdetect -capture -` ran inside the environment next to the real otelcol-virt-edge binary, " +
		"and kept exactly the files detection read there (process environments cut to the variables detection reads, " +
		"mount tables to the mounts it looks at, ACPI tables to their headers). `systemd-detect-virt` holds the real " +
		"tool's answers in the same environment where it could run there.\n\n")
	sort.Strings(facts)
	for _, f := range facts {
		fmt.Fprintf(&b, "- %s\n", f)
	}
	return b.String()
}

// commandLine returns the first line a command prints, "" when it cannot run.
func commandLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func hostKernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// libsOf lists the shared libraries a dynamic binary loads (ldd), for copying it into a
// root that has no libc of its own.
func libsOf(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil // static
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	return libs
}

// acpiOEM reads the OEM id straight from an ACPI table header (bytes 10-15), apart from the
// detection code.
func acpiOEM() string {
	entries, _ := os.ReadDir("/sys/firmware/acpi/tables")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/sys/firmware/acpi/tables", e.Name()))
		if err == nil && len(b) >= 16 {
			return strings.TrimSpace(string(b[10:16]))
		}
	}
	return ""
}

type tarWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
}

func newTarWriter(w io.Writer) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), dirs: map[string]bool{}}
}

func (w *tarWriter) dir(d string) error {
	if d == "." || d == "" || w.dirs[d] {
		return nil
	}
	if err := w.dir(filepath.Dir(d)); err != nil {
		return err
	}
	w.dirs[d] = true
	mode := int64(0o755)
	if d == "tmp" {
		mode = 0o1777
	}
	return w.tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode})
}

func (w *tarWriter) file(name, src string) error {
	if err := w.dir(filepath.Dir(name)); err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b))}); err != nil {
		return err
	}
	_, err = w.tw.Write(b)
	return err
}

func (w *tarWriter) symlink(name, target string) error {
	if err := w.dir(filepath.Dir(name)); err != nil {
		return err
	}
	return w.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777})
}

func (w *tarWriter) close() error { return w.tw.Close() }
