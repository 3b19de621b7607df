package e2e

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

func grpcUnavailable(msg string) error { return status.Error(codes.Unavailable, msg) }

// wireSizeHandler records the compressed size of each unary request so that the sink reports
// bytes on the wire for gRPC as it does for HTTP.
type wireSizeHandler struct{}

type wireSizeKey struct{}

func (wireSizeHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, wireSizeKey{}, new(atomic.Int64))
}

func (wireSizeHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if in, ok := s.(*stats.InPayload); ok {
		if n, ok := ctx.Value(wireSizeKey{}).(*atomic.Int64); ok {
			n.Store(int64(in.WireLength))
		}
	}
}

func (wireSizeHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (wireSizeHandler) HandleConn(context.Context, stats.ConnStats) {}

func wireSize(ctx context.Context) int {
	if n, ok := ctx.Value(wireSizeKey{}).(*atomic.Int64); ok {
		return int(n.Load())
	}
	return 0
}
