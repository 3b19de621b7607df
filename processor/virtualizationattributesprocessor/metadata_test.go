package virtualizationattributesprocessor

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// metadata.yaml, attributes.go and documentation.md are written by hand (mdatagen is not part of
// this build); these tests keep the three, and what detection produces, in agreement.

type metadataAttr struct {
	Description string   `yaml:"description"`
	Type        string   `yaml:"type"`
	Enum        []string `yaml:"enum"`
	Enabled     bool     `yaml:"enabled"`
}

func readMetadata(t *testing.T) map[string]metadataAttr {
	t.Helper()
	b, err := os.ReadFile("metadata.yaml")
	require.NoError(t, err)
	var md struct {
		ResourceAttributes map[string]metadataAttr `yaml:"resource_attributes"`
	}
	require.NoError(t, yaml.Unmarshal(b, &md))
	require.NotEmpty(t, md.ResourceAttributes)
	return md.ResourceAttributes
}

type docRow struct {
	values  []string // the ``quoted`` values of the Values column
	enabled string
}

var docValue = regexp.MustCompile("``([^`]+)``")

func readDocumentation(t *testing.T) map[string]docRow {
	t.Helper()
	b, err := os.ReadFile("documentation.md")
	require.NoError(t, err)
	section := string(b)
	start := strings.Index(section, "## Resource Attributes")
	require.GreaterOrEqual(t, start, 0)
	section = section[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "-") || strings.TrimSpace(cells[1]) == "Name" {
			continue
		}
		var vals []string
		for _, m := range docValue.FindAllStringSubmatch(cells[3], -1) {
			vals = append(vals, m[1])
		}
		rows[strings.TrimSpace(cells[1])] = docRow{values: vals, enabled: strings.TrimSpace(cells[4])}
	}
	return rows
}

// TestMetadataMatchesCodeAndDocumentation: every attribute of metadata.yaml has its switch in
// ResourceAttributesConfig with the same default, and its row in documentation.md with the same
// default and, where metadata.yaml has an enum, the same values.
func TestMetadataMatchesCodeAndDocumentation(t *testing.T) {
	md := readMetadata(t)
	doc := readDocumentation(t)
	def := reflect.ValueOf(DefaultResourceAttributesConfig())
	typ := def.Type()
	fields := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Tag.Get("mapstructure")
		if name == "" {
			continue
		}
		fields[name] = true
		a, ok := md[name]
		if !assert.True(t, ok, "%s is configurable but not in metadata.yaml", name) {
			continue
		}
		assert.Equal(t, a.Enabled, def.Field(i).Interface().(ResourceAttributeConfig).Enabled, "%s: default in attributes.go", name)
		assert.True(t, DefaultResourceAttributesConfig().enabled(name) == a.Enabled, "%s: enabled() answers for it", name)
	}
	for name, a := range md {
		assert.True(t, fields[name], "%s is in metadata.yaml but has no switch", name)
		row, ok := doc[name]
		if !assert.True(t, ok, "%s has no row in documentation.md", name) {
			continue
		}
		assert.Equal(t, map[bool]string{true: "true", false: "false"}[a.Enabled], row.enabled, "%s: enabled in documentation.md", name)
		if len(a.Enum) > 0 {
			assert.Equal(t, a.Enum, row.values, "%s: values in documentation.md", name)
		}
	}
	assert.Len(t, doc, len(md), "documentation.md rows and metadata.yaml attributes")
}

// TestDetectedValuesAreDocumented runs detection on every fixture and checks that each value it
// produces is one metadata.yaml's enum allows, or one documentation.md lists.
func TestDetectedValuesAreDocumented(t *testing.T) {
	md := readMetadata(t)
	doc := readDocumentation(t)
	allowed := func(attr string) []string {
		if e := md[attr].Enum; len(e) > 0 {
			return e
		}
		return doc[attr].values
	}
	entries, err := os.ReadDir(fixturesDir)
	require.NoError(t, err)
	seen := map[string]map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(fixturesDir, e.Name())
		var cpu virtdetect.CPUID = virtdetect.NoCPUID
		if b, err := os.ReadFile(filepath.Join(dir, "cpuid")); err == nil {
			cpu = virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
		}
		h := virtdetect.Detect(virtdetect.NewFS(filepath.Join(dir, "root")), cpu)
		for attr, v := range map[string]string{
			attrHypervisorName: h.HypervisorName, attrHypervisorType: h.HypervisorType, attrVMMName: h.VMMName,
			attrRole: h.Role, attrHostIsolationLevel: h.IsolationLevel, attrContainerRuntime: h.ContainerRuntime,
			attrDetectionConfidence: string(h.Confidence), attrCloudProvider: h.CloudProvider, attrCloudPlatform: h.CloudPlatform,
		} {
			if v == "" {
				continue
			}
			assert.Contains(t, allowed(attr), v, "%s: %s=%q is not documented", e.Name(), attr, v)
			if seen[attr] == nil {
				seen[attr] = map[string]bool{}
			}
			seen[attr][v] = true
		}
		for _, l := range h.Layers {
			assert.Contains(t, doc[attrLayers].values, l.Kind, "%s: layer kind %q", e.Name(), l.Kind)
		}
	}
	// The fixtures cover every documented hypervisor type and role, so the enums are not wider
	// than what detection can say.
	for _, attr := range []string{attrHypervisorType, attrRole, attrHostIsolationLevel} {
		var got []string
		for v := range seen[attr] {
			got = append(got, v)
		}
		sort.Strings(got)
		want := append([]string(nil), md[attr].Enum...)
		sort.Strings(want)
		assert.Equal(t, want, got, "%s: values seen on the fixtures", attr)
	}
}
