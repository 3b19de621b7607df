package main

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// spansPerRequest is the cloud agent's batch (send_batch_size 512).
const spansPerRequest = 512

// agentBatch is one agent export: spans of a few services, with the attributes an agent adds.
func agentBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	now := time.Now()
	for svc := range 4 {
		rs := td.ResourceSpans().AppendEmpty()
		attrs := rs.Resource().Attributes()
		attrs.PutStr("service.name", "svc-"+strconv.Itoa(svc))
		attrs.PutStr("k8s.node.name", "node-a")
		attrs.PutStr("k8s.pod.uid", "00000000-0000-0000-0000-00000000000"+strconv.Itoa(svc))
		attrs.PutStr("virtualization.isolation.level", "container")
		ss := rs.ScopeSpans().AppendEmpty()
		for i := range spansPerRequest / 4 {
			sp := ss.Spans().AppendEmpty()
			var tid [16]byte
			var sid [8]byte
			_, _ = rand.Read(tid[:])
			_, _ = rand.Read(sid[:])
			sp.SetTraceID(tid)
			sp.SetSpanID(sid)
			sp.SetName("GET /api/v1/items/" + strconv.Itoa(i%16))
			sp.SetKind(ptrace.SpanKindServer)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-5 * time.Millisecond)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
			sp.Attributes().PutStr("http.request.method", "GET")
			sp.Attributes().PutInt("http.response.status_code", 200)
			sp.Attributes().PutStr("url.path", "/api/v1/items/"+strconv.Itoa(i%16))
		}
	}
	return td
}

// load sends the same batch from workers concurrent clients for d, each waiting for the
// gateway's answer before the next request, as the agents' exporters do.
func load(endpoint string, d time.Duration, workers int) error {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	req := ptraceotlp.NewExportRequestFromTraces(agentBatch())
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := client.Export(rctx, req)
				rcancel()
				if err != nil && ctx.Err() == nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
