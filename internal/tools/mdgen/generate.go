package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// Generate renders the metadata package of the component in dir.
func Generate(dir string) (map[string][]byte, error) {
	md, err := load(dir)
	if err != nil {
		return nil, err
	}
	if md.ScopeName, err = importPath(dir); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for name, tmpl := range map[string]string{
		"generated_status.go":       statusTmpl,
		"generated_config.go":       configTmpl,
		"generated_metrics.go":      metricsTmpl,
		"generated_resource.go":     resourceTmpl,
		"generated_telemetry.go":    telemetryTmpl,
		"generated_metrics_test.go": metricsTestTmpl,
		"documentation.md":          documentationTmpl,
	} {
		if (name == "generated_telemetry.go" || name == "documentation.md") && len(md.TelemetryNames) == 0 && len(md.MetricNames) == 0 {
			continue
		}
		if name == "generated_telemetry.go" && len(md.TelemetryNames) == 0 {
			continue
		}
		if (name == "generated_metrics.go" || name == "generated_metrics_test.go" || name == "generated_config.go" || name == "generated_resource.go") && len(md.MetricNames) == 0 && len(md.ResourceNames) == 0 {
			continue
		}
		t, err := template.New(name).Funcs(funcs(md)).Parse(tmpl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, md); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !strings.HasSuffix(name, ".go") {
			out[name] = b.Bytes()
			continue
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", name, err, b.String())
		}
		out[name] = src
	}
	return out, nil
}

// importPath is the Go import path of dir (its scope name).
func importPath(dir string) (string, error) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}", ".")
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list in %s: %w", dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func funcs(md *Metadata) template.FuncMap {
	return template.FuncMap{
		"goName":    goName,
		"lowerName": lowerName,
		"goType":    goType,
		"putFunc":   putFunc,
		"metric":    func(n string) *Metric { return md.Metrics[n] },
		"telemetry": func(n string) *Metric { return md.Telemetry.Metrics[n] },
		"attr":      func(n string) *Attribute { return md.Attributes[n] },
		"res":       func(n string) *Attribute { return md.ResourceAttributes[n] },
		"quote":     func(s string) string { return fmt.Sprintf("%q", s) },
		"stability": func() map[string]string {
			out := map[string]string{}
			for level, signals := range md.Status.Stability {
				for _, s := range signals {
					out[s] = level
				}
			}
			return out
		},
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"base": filepath.Base,
		// telemetryName is the instrument name of a telemetry metric: the Collector's own are
		// otelcol_ and underscores (otelcol_scraper_scraped_metric_points).
		"telemetryName": func(n string) string { return strings.ReplaceAll(n, ".", "_") },
		// sampleValue is a literal of the attribute's type for the lifecycle test.
		"sampleValue": func(a *Attribute) string {
			if len(a.Enum) > 0 {
				return "Attribute" + goName(a.Key) + goName(a.Enum[0])
			}
			switch a.Type {
			case "int":
				return "int64(7)"
			case "double":
				return "3.5"
			case "bool":
				return "true"
			}
			return fmt.Sprintf("%q", a.Key+"-val")
		},
		"sampleRaw": func(a *Attribute) string {
			if len(a.Enum) > 0 {
				return fmt.Sprintf("%q", a.Enum[0])
			}
			switch a.Type {
			case "int":
				return "int64(7)"
			case "double":
				return "3.5"
			case "bool":
				return "true"
			}
			return fmt.Sprintf("%q", a.Key+"-val")
		},
		"isEnum": func(a *Attribute) bool { return len(a.Enum) > 0 },
		"enumList": func(a *Attribute) string {
			var q []string
			for _, e := range a.Enum {
				q = append(q, "`"+e+"`")
			}
			return strings.Join(q, ", ")
		},
		"enabled": func(names []string, on bool) []string {
			var out []string
			for _, n := range names {
				if md.Metrics[n].Enabled == on {
					out = append(out, n)
				}
			}
			return out
		},
		"kind": func(m *Metric) string {
			if m.Sum != nil {
				return "Sum"
			}
			return "Gauge"
		},
		"titleValue": func(vt string) string {
			if vt == "int" {
				return "Int"
			}
			return "Double"
		},
	}
}
