package edgeprofileextension

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// startControl serves the control API. A port already in use is logged, not fatal: telemetry
// matters more than the management API, and a fatal error would become a crash loop.
func (e *edgeProfile) startControl() {
	ln, err := net.Listen("tcp", e.cfg.Control.Endpoint)
	if err != nil {
		e.logger.Error("edge_profile control API disabled: cannot listen; pick a free port in control.endpoint, or set it to \"\" to turn the API off",
			zap.String("endpoint", e.cfg.Control.Endpoint), zap.Error(err))
		return
	}
	e.server = &http.Server{Handler: e.controlHandler(), ReadHeaderTimeout: 5 * time.Second}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("edge_profile control API stopped", zap.Error(err))
		}
	}()
	e.logger.Info("edge_profile control API listening", zap.String("endpoint", ln.Addr().String()))
}

// controlHandler serves the control and status API:
//
//	GET  /status            full JSON status (active preset, why, presets, recent switches)
//	GET  /profile           {"active": ..., "requested": ...}
//	PUT  /profile           body {"profile": "cloud"} or "cloud"; "auto" re-enables auto mode
//
// With a bearer token configured every request must carry it.
func (e *edgeProfile) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		writeJSON(w, http.StatusOK, e.status())
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			st := e.status()
			writeJSON(w, http.StatusOK, map[string]string{"active": st.Active, "requested": st.Requested, "reason": st.Reason})
		case http.MethodPut, http.MethodPost:
			body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
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
			st := e.status()
			writeJSON(w, http.StatusOK, map[string]string{"active": st.Active, "requested": st.Requested, "reason": st.Reason})
		default:
			writeError(w, http.StatusMethodNotAllowed, "use GET, or PUT with {\"profile\": \"<name>\"}")
		}
	})
	token := string(e.cfg.Control.BearerToken)
	if token == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edge_profile"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; send Authorization: Bearer <control.bearer_token>")
			return
		}
		mux.ServeHTTP(w, r)
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
