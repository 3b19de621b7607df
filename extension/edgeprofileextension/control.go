package edgeprofileextension

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// startControl serves the control API on a stock confighttp server (TLS, auth extensions,
// timeouts). A port already in use is logged, not fatal: telemetry matters more than the
// management API, and a fatal error would become a crash loop. A configuration the server
// cannot be built from (an unknown auth extension, unreadable TLS files) is fatal.
func (e *edgeProfile) startControl(ctx context.Context, host component.Host) error {
	sc := e.cfg.Control.ServerConfig // ToServer fills defaults into its receiver
	ln, err := sc.ToListener(ctx)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "listen" {
			e.logger.Error("edge_profile control API disabled: cannot listen; pick a free port in control.endpoint, or set it to \"\" to turn the API off",
				zap.String("endpoint", sc.NetAddr.Endpoint), zap.Error(err))
			return nil
		}
		return fmt.Errorf("control: %w", err)
	}
	srv, err := sc.ToServer(ctx, host.GetExtensions(), e.settings.TelemetrySettings, e.controlHandler(ln.Addr()))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("control: %w", err)
	}
	e.server, e.controlAddr = srv, ln.Addr()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("edge_profile control API stopped", zap.Error(err))
		}
	}()
	e.logger.Info("edge_profile control API listening", zap.String("endpoint", ln.Addr().String()))
	return nil
}

// controlHandler serves the control and status API on the listener bound to addr:
//
//	GET  /status            full JSON status (active preset, why, presets, recent switches)
//	GET  /profile           {"active": ..., "requested": ...}
//	PUT  /profile           Content-Type: application/json, body {"profile": "cloud"};
//	                        "auto" re-enables auto mode
//
// Browsers are kept out (browserGuard); with a bearer token configured every request must
// carry it, and an auth extension under control.auth is applied by confighttp around this.
func (e *edgeProfile) controlHandler(addr net.Addr) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		writeJSON(w, http.StatusOK, e.status())
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, e.profileReply())
		case http.MethodPut:
			e.putProfile(w, r)
		default:
			w.Header().Set("Allow", "GET, PUT")
			writeError(w, http.StatusMethodNotAllowed, "use GET, or PUT with Content-Type: application/json and {\"profile\": \"<name>\"}")
		}
	})
	h := http.Handler(mux)
	if token := string(e.cfg.Control.BearerToken); token != "" {
		h = bearerTokenGuard(token, h)
	}
	return browserGuard(newHostPolicy(&e.cfg.Control, addr), h)
}

func (e *edgeProfile) profileReply() map[string]string {
	st := e.status()
	return map[string]string{"active": st.Active, "requested": st.Requested, "reason": st.Reason}
}

// putProfile requires a JSON body: a form or text/plain body is what a browser can send
// cross-origin without a preflight, so accepting only application/json (with PUT, which is
// never a simple request either) keeps web pages from switching presets.
func (e *edgeProfile) putProfile(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json with {\"profile\": \"<name>\"}")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, controlMaxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		writeError(w, http.StatusBadRequest, "send a JSON object: {\"profile\": \"<name>\"}")
		return
	}
	name, err := parseProfileRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := e.setRequested(name, SourceControl, "set through the control API from "+r.RemoteAddr); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, e.profileReply())
}

func bearerTokenGuard(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edge_profile"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; send Authorization: Bearer <control.bearer_token>")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
