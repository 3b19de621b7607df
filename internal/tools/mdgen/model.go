package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Metadata is the part of mdatagen's metadata.yaml this project uses.
type Metadata struct {
	Type   string `yaml:"type"`
	Status struct {
		Class         string              `yaml:"class"`
		Stability     map[string][]string `yaml:"stability"`
		Distributions []string            `yaml:"distributions"`
	} `yaml:"status"`
	SemConvVersion     string                `yaml:"sem_conv_version"`
	ResourceAttributes map[string]*Attribute `yaml:"resource_attributes"`
	Attributes         map[string]*Attribute `yaml:"attributes"`
	Metrics            map[string]*Metric    `yaml:"metrics"`
	Telemetry          struct {
		Metrics map[string]*Metric `yaml:"metrics"`
	} `yaml:"telemetry"`

	// ScopeName is the Go import path of the component.
	ScopeName string `yaml:"-"`
	// Ordered names.
	ResourceNames, AttributeNames, MetricNames, TelemetryNames []string `yaml:"-"`
}

// Attribute is a resource or data point attribute.
type Attribute struct {
	Description  string   `yaml:"description"`
	Type         string   `yaml:"type"`
	Enabled      bool     `yaml:"enabled"`
	Enum         []string `yaml:"enum"`
	NameOverride string   `yaml:"name_override"`

	Key string `yaml:"-"` // the metadata.yaml key
}

// Name is the attribute's name on the wire.
func (a *Attribute) Name() string {
	if a.NameOverride != "" {
		return a.NameOverride
	}
	return a.Key
}

// Metric is a metric or a telemetry metric.
type Metric struct {
	Description        string   `yaml:"description"`
	Unit               string   `yaml:"unit"`
	Enabled            bool     `yaml:"enabled"`
	Attributes         []string `yaml:"attributes"`
	OptionalAttributes []string `yaml:"optional_attributes"`
	Sum                *struct {
		ValueType              string `yaml:"value_type"`
		Monotonic              bool   `yaml:"monotonic"`
		AggregationTemporality string `yaml:"aggregation_temporality"`
	} `yaml:"sum"`
	Gauge *struct {
		ValueType string `yaml:"value_type"`
	} `yaml:"gauge"`

	Name string `yaml:"-"`
}

// ValueType is "int" or "double".
func (m *Metric) ValueType() string {
	if m.Sum != nil {
		return m.Sum.ValueType
	}
	return m.Gauge.ValueType
}

func load(dir string) (*Metadata, error) {
	data, err := os.ReadFile(filepath.Join(dir, "metadata.yaml"))
	if err != nil {
		return nil, err
	}
	var md Metadata
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&md); err != nil {
		return nil, fmt.Errorf("%s/metadata.yaml: %w", dir, err)
	}
	for k, a := range md.ResourceAttributes {
		a.Key = k
		md.ResourceNames = append(md.ResourceNames, k)
	}
	for k, a := range md.Attributes {
		a.Key = k
		md.AttributeNames = append(md.AttributeNames, k)
	}
	for k, m := range md.Metrics {
		m.Name = k
		md.MetricNames = append(md.MetricNames, k)
	}
	for k, m := range md.Telemetry.Metrics {
		m.Name = k
		md.TelemetryNames = append(md.TelemetryNames, k)
	}
	slices.Sort(md.ResourceNames)
	slices.Sort(md.AttributeNames)
	slices.Sort(md.MetricNames)
	slices.Sort(md.TelemetryNames)
	for _, name := range append(md.MetricNames, md.TelemetryNames...) {
		m := md.Metrics[name]
		if m == nil {
			m = md.Telemetry.Metrics[name]
		}
		if (m.Sum == nil) == (m.Gauge == nil) {
			return nil, fmt.Errorf("metric %s: exactly one of sum or gauge must be set", name)
		}
		if vt := m.ValueType(); vt != "int" && vt != "double" {
			return nil, fmt.Errorf("metric %s: value_type %q is not int or double", name, vt)
		}
		for _, a := range append(slices.Clone(m.Attributes), m.OptionalAttributes...) {
			if md.Attributes[a] == nil {
				return nil, fmt.Errorf("metric %s: attribute %s is not defined under attributes", name, a)
			}
		}
		if m.Description == "" || m.Unit == "" {
			return nil, fmt.Errorf("metric %s: description and unit are required", name)
		}
	}
	for _, a := range append(mapValues(md.ResourceAttributes), mapValues(md.Attributes)...) {
		switch a.Type {
		case "string", "int", "bool", "double":
		default:
			return nil, fmt.Errorf("attribute %s: type %q is not string, int, bool or double", a.Key, a.Type)
		}
		if len(a.Enum) > 0 && a.Type != "string" {
			return nil, fmt.Errorf("attribute %s: enum needs type string", a.Key)
		}
	}
	return &md, nil
}

func mapValues(m map[string]*Attribute) []*Attribute {
	out := make([]*Attribute, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// goName turns "container.cpu.time" into "ContainerCPUTime", with the initialisms Go names use.
func goName(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '/' }) {
		if up := strings.ToUpper(part); initialisms[up] {
			b.WriteString(up)
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

var initialisms = map[string]bool{"CPU": true, "ID": true, "IO": true, "OOM": true, "VM": true, "VMM": true, "PID": true, "QOS": true, "TCP": true, "UID": true, "VCPUS": false, "RSS": true, "PSI": true, "URL": true, "HTTP": true}

// lowerName turns "cpu.mode" into "cpuMode".
func lowerName(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '/' })
	if len(parts) == 0 {
		return s
	}
	return strings.ToLower(parts[0]) + goName(strings.Join(parts[1:], "."))
}

func goType(t string) string {
	switch t {
	case "int":
		return "int64"
	case "double":
		return "float64"
	case "bool":
		return "bool"
	}
	return "string"
}

func putFunc(t string) string {
	switch t {
	case "int":
		return "PutInt"
	case "double":
		return "PutDouble"
	case "bool":
		return "PutBool"
	}
	return "PutStr"
}
