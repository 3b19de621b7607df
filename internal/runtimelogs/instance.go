package runtimelogs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/component"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/entry"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/helper"
)

// InstanceRef is what a log record tells about the instance that wrote it.
type InstanceRef struct {
	// Path is the file the record was read from.
	Path string
	// PID is the writer's process id when the source's pid_from_path found one, else 0.
	PID int
	// PodUID is the Kubernetes pod uid of a container-format file, else "".
	PodUID string
	// ContainerName is the Kubernetes container name of a container-format file, else "".
	ContainerName string
	// VMID is the instance id a VMM wrote in the record (Firecracker), else "".
	VMID string
	// Runtime is the source's runtime name.
	Runtime string
}

// Resolver finds the resource attributes of the instance behind a log record, the same ones the
// receiver puts on the instance's metrics (wasm_runtime.instance.id, wasm_runtime.runtime,
// cgroup path, container and pod ids...). It is called for every record, so it must be cheap
// (a map lookup in the receiver's latest discovery snapshot) and safe for concurrent use. The
// returned map must not be modified afterwards.
type Resolver interface {
	Resolve(ref InstanceRef) (map[string]any, bool)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(InstanceRef) (map[string]any, bool)

// Resolve implements Resolver.
func (f ResolverFunc) Resolve(ref InstanceRef) (map[string]any, bool) { return f(ref) }

const (
	instanceOperatorType = "wasm_runtime_instance"
	instanceOperatorID   = "wasm_runtime_instance"
	// sourceAttr tells the shared instance operator which source a record comes from.
	sourceAttr = tempPrefix + "source"
)

// instanceConfig builds the operator every source ends in: it turns the temporary groups of the
// parsers into attributes, normalises trap codes and attaches the instance's resource.
type instanceConfig struct {
	helper.TransformerConfig
	sources  map[string]sourceInfo
	resolver Resolver
}

type sourceInfo struct {
	runtime  string
	pid      *regexp.Regexp
	pidGroup int
}

func newInstanceConfig(id string, resolver Resolver) *instanceConfig {
	return &instanceConfig{
		TransformerConfig: helper.NewTransformerConfig(id, instanceOperatorType),
		sources:           map[string]sourceInfo{},
		resolver:          resolver,
	}
}

func (c *instanceConfig) addSource(s SourceConfig) error {
	info := sourceInfo{runtime: s.Runtime}
	if s.PIDFromPath != "" {
		re, err := regexp.Compile(s.PIDFromPath)
		if err != nil {
			return fmt.Errorf("pid_from_path: %w", err)
		}
		if info.pidGroup = re.SubexpIndex("pid"); info.pidGroup < 0 {
			return errors.New("pid_from_path: no group named pid")
		}
		info.pid = re
	}
	c.sources[s.Name] = info
	return nil
}

func (c *instanceConfig) Build(set component.TelemetrySettings) (operator.Operator, error) {
	t, err := c.TransformerConfig.Build(set)
	if err != nil {
		return nil, err
	}
	return &instanceOperator{TransformerOperator: t, cfg: c, replay: newReplayGuard()}, nil
}

type instanceOperator struct {
	helper.TransformerOperator
	cfg    *instanceConfig
	replay *replayGuard
}

// Start loads the replay marks of the previous run from the storage extension.
func (o *instanceOperator) Start(p operator.Persister) error { return o.replay.start(p) }

// Stop saves the replay marks; every operator before this one has stopped and flushed.
func (o *instanceOperator) Stop() error { return o.replay.stop() }

func (o *instanceOperator) ProcessBatch(ctx context.Context, entries []*entry.Entry) error {
	kept := entries[:0]
	for _, e := range entries {
		if o.fresh(e) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return o.ProcessBatchWithTransform(ctx, kept, o.transform)
}

func (o *instanceOperator) Process(ctx context.Context, e *entry.Entry) error {
	if !o.fresh(e) {
		return nil
	}
	return o.ProcessWith(ctx, e, o.transform)
}

// fresh drops the records a restarted file reader replays, and the offset attribute used for it.
func (o *instanceOperator) fresh(e *entry.Entry) bool {
	off, ok := e.Attributes[recordOffsetAttr].(int64)
	if !ok {
		return true
	}
	delete(e.Attributes, recordOffsetAttr)
	path, _ := e.Attributes["log.file.path"].(string)
	return path == "" || o.replay.keep(path, off)
}

const recordOffsetAttr = "log.file.record_offset"

var (
	filePathField = entry.NewAttributeField("log.file.path")
	podUIDField   = entry.NewResourceField("k8s.pod.uid")
	containerName = entry.NewResourceField("k8s.container.name")
)

func (o *instanceOperator) transform(e *entry.Entry) error {
	name, _ := e.Attributes[sourceAttr].(string)
	src := o.cfg.sources[name]
	finishAttributes(e)

	ref := InstanceRef{Runtime: src.runtime}
	if v, ok := e.Get(filePathField); ok {
		ref.Path, _ = v.(string)
	}
	if v, ok := e.Get(podUIDField); ok {
		ref.PodUID, _ = v.(string)
	}
	if v, ok := e.Get(containerName); ok {
		ref.ContainerName, _ = v.(string)
	}
	ref.VMID, _ = e.Attributes[AttrVMID].(string)
	if src.pid != nil && ref.Path != "" {
		if m := src.pid.FindStringSubmatch(ref.Path); m != nil {
			if pid, err := strconv.Atoi(m[src.pidGroup]); err == nil && pid > 0 {
				ref.PID = pid
				e.Attributes[AttrPID] = int64(pid)
			}
		}
	}
	if o.cfg.resolver == nil {
		return nil
	}
	if attrs, ok := o.cfg.resolver.Resolve(ref); ok {
		if e.Resource == nil {
			e.Resource = make(map[string]any, len(attrs))
		}
		for k, v := range attrs {
			e.Resource[k] = v
		}
	}
	return nil
}

// finishAttributes renames the parsers' temporary groups, drops the empty and consumed ones and
// derives the normalised trap code.
func finishAttributes(e *entry.Entry) {
	if trap, ok := e.Attributes[tempPrefix+"trap"].(string); ok && trap != "" {
		e.Attributes[AttrTrapCode] = trapCode(strings.TrimSuffix(strings.TrimSpace(trap), " (recovered by wazero)"))
	}
	for k, v := range e.Attributes {
		if !strings.HasPrefix(k, tempPrefix) {
			continue
		}
		delete(e.Attributes, k)
		s, _ := v.(string)
		name, keep := tempAttributes[k]
		if !keep || s == "" {
			continue
		}
		switch name {
		case AttrCodeLineNumber:
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				e.Attributes[name] = n
			}
		case AttrExceptionStacktrace, AttrExceptionMessage:
			e.Attributes[name] = strings.TrimRight(s, "\n")
		default:
			e.Attributes[name] = s
		}
	}
}
