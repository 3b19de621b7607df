package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestDeploymentGuideMatchesTheRepository keeps docs/deployment.md honest: the files it names
// exist, it names every alert of the rules and no other, and the tests it cites exist.
func TestDeploymentGuideMatchesTheRepository(t *testing.T) {
	doc := string(readRepoFile(t, "docs", "deployment.md"))

	checkPaths(t, "docs/deployment.md", doc, repoPath())
	for _, readme := range []string{composeDir, k8sDir} {
		text := string(readRepoFile(t, readme, "README.md"))
		checkPaths(t, readme+"/README.md", text, repoPath())
		// Paths in a README's table are relative to its directory.
		for _, m := range regexp.MustCompile("\\| `([a-z][^`* ]*)` \\|").FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(repoPath(readme, strings.TrimSuffix(m[1], "/"))); err != nil {
				t.Errorf("%s/README.md names %s, which does not exist there", readme, m[1])
			}
		}
	}

	var documented []string
	for _, m := range regexp.MustCompile("`((?:Wasm|OtelcolVirt)[A-Za-z]+)`").FindAllStringSubmatch(doc, -1) {
		documented = append(documented, m[1])
	}
	var defined []string
	for _, a := range alerts(loadRules(t)) {
		defined = append(defined, a.Alert)
	}
	sort.Strings(documented)
	sort.Strings(defined)
	if documented = slices.Compact(documented); !slices.Equal(documented, defined) {
		t.Errorf("docs/deployment.md names the alerts %v, the rules define %v", documented, defined)
	}

	var sources strings.Builder
	files, err := filepath.Glob(repoPath("deploy", "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in deploy/: %v", err)
	}
	// The end-to-end tests the guide cites (the gateway tier on loopback).
	e2eFiles, _ := filepath.Glob(repoPath("internal", "e2e", "*_test.go"))
	files = append(files, e2eFiles...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources.Write(data)
	}
	for _, m := range regexp.MustCompile("`(Test[A-Za-z]+)`").FindAllStringSubmatch(doc, -1) {
		if !strings.Contains(sources.String(), "func "+m[1]+"(") {
			t.Errorf("docs/deployment.md cites %s, which is not a test of deploy/ or internal/e2e", m[1])
		}
	}
}

// checkPaths reports repository paths named in backquotes that do not exist.
func checkPaths(t *testing.T, name, text, root string) {
	t.Helper()
	for _, m := range regexp.MustCompile("`((?:examples|monitoring|deploy|docs|processor|receiver)/[^`* ]+)`").FindAllStringSubmatch(text, -1) {
		path := strings.TrimSuffix(m[1], "/")
		if strings.ContainsAny(path, "{<") {
			continue
		}
		if _, err := os.Stat(repoPath(path)); err != nil {
			t.Errorf("%s names %s, which does not exist", name, path)
		}
	}
}
