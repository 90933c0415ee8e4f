package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// The admin listener (Config.AdminAddr) serves Prometheus metrics and the
// Go profiler apart from the API, so that an operator can expose it to a
// monitoring network only. Like the rest, it is open on a loopback address
// and needs an account's Basic credentials beyond it.

// adminHandler serves /metrics and /debug/pprof/.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "voicehook admin: /metrics (Prometheus), /debug/pprof/ (Go profiles)\n")
	})
	host, _, _ := net.SplitHostPort(s.cfg.AdminAddr)
	if isLoopback(host) {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			_, ok = s.dir.Authenticate(user, pass)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="voicehook admin", charset="UTF-8"`)
			http.Error(w, "401 Unauthorized: the admin endpoints need an account's Basic credentials", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// startAdmin serves the admin endpoints on ln until closeAdmin.
func (s *Server) startAdmin(ln net.Listener) {
	s.adminURL = "http://" + ln.Addr().String()
	// No WriteTimeout: a CPU profile or a trace streams for as long as
	// asked (?seconds=, 30 s by default).
	s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	s.adminServed = make(chan error, 1)
	go func() { s.adminServed <- s.admin.Serve(ln) }()
}

// closeAdmin stops the admin listener; a profile still streaming when ctx
// ends is cut off.
func (s *Server) closeAdmin(ctx context.Context) error {
	if s.admin == nil {
		return nil
	}
	err := s.admin.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.admin.Close())
	}
	if served := <-s.adminServed; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, served)
	}
	return err
}
