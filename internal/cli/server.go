package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/agent/claude"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
	"github.com/sandbox-agent/sandbox-agent/store/durable"
)

type serverOptions struct {
	host, port     string
	token          string
	noToken        bool
	cors           server.CORS
	logLevel       string
	maxUploadBytes int64
	// idleTimeout closes keep-alive connections idle for that long;
	// headerTimeout bounds reading a request's headers.
	idleTimeout, headerTimeout time.Duration
	// fsRoot confines the fs routes (and is the sessions' default working
	// directory); root is it, opened.
	fsRoot string
	root   *server.FSRoot
	// Lifecycle bounds (see the session package doc).
	turnIdleTimeout   time.Duration
	agentStartTimeout time.Duration
	// dataDir holds the server's state across restarts (the agents'
	// process groups, so a successor can clean up after a kill -9).
	dataDir string
	store   storeOptions
	st      *durable.Store // the opened --store; nil: memory
}

func newServerCmd() *cobra.Command {
	var o serverOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the HTTP server",
		Long: `Run the HTTP server: the /v1 API and its event streams.

A token is required unless --no-token is given: pass --token (or set
SANDBOX_AGENT_TOKEN) and send it as "Authorization: Bearer <token>".`,
		Example: `  sandbox-agent server --no-token
  sandbox-agent server --host 0.0.0.0 --port 8080 --token "$SECRET"
  sandbox-agent server --no-token -O http://localhost:5173 --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.token == "" {
				o.token = os.Getenv("SANDBOX_AGENT_TOKEN")
			}
			if o.token == "" && !o.noToken {
				return errors.New("no token: pass --token <secret> (or set SANDBOX_AGENT_TOKEN) to require one, or --no-token to serve without authentication")
			}
			if o.token != "" && o.noToken {
				return errors.New("--token and --no-token exclude each other")
			}
			if o.cors.AllowCredentials && (len(o.cors.AllowMethods) == 0 || len(o.cors.AllowHeaders) == 0) {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: --cors-allow-credentials with any method/header: the server echoes the requested method and headers")
			}
			level := new(slog.LevelVar)
			if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", o.logLevel)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			o.dataDir = envDefault(o.dataDir, "SANDBOX_AGENT_DATA_DIR")
			o.store.spec = envDefault(o.store.spec, "SANDBOX_AGENT_STORE")
			o.store.serverID = envDefault(o.store.serverID, "SANDBOX_AGENT_SERVER_ID")
			if v := os.Getenv("SANDBOX_AGENT_NO_STORE_RAW"); v != "" && v != "0" && v != "false" {
				o.store.noRaw = true
			}
			if o.store.retainDays < 0 || o.store.retainSessions < 0 {
				return errors.New("--retain-days and --retain-sessions must not be negative")
			}
			return runServer(cmd.Context(), o, log)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.host, "host", "H", "127.0.0.1", "address to listen on")
	f.StringVarP(&o.port, "port", "p", "2468", "port to listen on (0 picks a free one)")
	f.StringVarP(&o.token, "token", "t", "", "require this bearer token (env SANDBOX_AGENT_TOKEN)")
	f.BoolVarP(&o.noToken, "no-token", "n", false, "serve without authentication")
	f.StringArrayVarP(&o.cors.AllowOrigins, "cors-allow-origin", "O", nil, "allow this CORS origin (repeatable)")
	f.StringArrayVarP(&o.cors.AllowMethods, "cors-allow-method", "M", nil, "allow this CORS method (repeatable; default any)")
	f.StringArrayVarP(&o.cors.AllowHeaders, "cors-allow-header", "A", nil, "allow this CORS header (repeatable; default any)")
	f.BoolVarP(&o.cors.AllowCredentials, "cors-allow-credentials", "C", false, "allow CORS credentials")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.Int64Var(&o.maxUploadBytes, "max-upload-bytes", 0, "cap on one file-system upload in bytes (0: no cap)")
	f.StringVar(&o.dataDir, "data-dir", "", "directory for the server's state (default $XDG_STATE_HOME/sandbox-agent, else ~/.local/state/sandbox-agent)")
	f.StringVar(&o.store.spec, "store", "", "where sessions and events are kept: memory (default), sqlite (in --data-dir), sqlite:PATH, or a postgres:// URL (env SANDBOX_AGENT_STORE); durable stores survive restarts")
	f.StringVar(&o.store.serverID, "server-id", "", "scope of this server's rows in a shared database (env SANDBOX_AGENT_SERVER_ID; default \"default\")")
	f.BoolVar(&o.store.noRaw, "no-store-raw", false, "do not write agents' raw native payloads to the store (env SANDBOX_AGENT_NO_STORE_RAW=1)")
	f.IntVar(&o.store.retainDays, "retain-days", 0, "delete stored sessions not updated for this many days (ended or detached ones; 0: keep)")
	f.IntVar(&o.store.retainSessions, "retain-sessions", 0, "keep at most this many stored sessions, deleting the least recently updated ended or detached ones (0: no cap)")
	f.StringVar(&o.fsRoot, "fs-root", "", "confine the /v1/fs routes to this directory (default: the whole file system, as the server's user sees it)")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 60*time.Second, "close keep-alive connections idle this long")
	f.DurationVar(&o.headerTimeout, "read-header-timeout", 10*time.Second, "give up on a request whose headers take longer than this")
	f.DurationVar(&o.turnIdleTimeout, "turn-idle-timeout", 0, "end a turn whose agent sends nothing for this long (error turn_idle_timeout, agent interrupted); 0: never")
	f.DurationVar(&o.agentStartTimeout, "agent-start-timeout", claude.DefaultStartTimeout, "fail session creation when an agent process does not answer its start (initialize) within this time")
	return cmd
}

// UI serves the inspector under /ui/. The command (cmd/sandbox-agent) sets
// it to the embedded build; left nil, /ui/ says the binary has none.
var UI http.Handler

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// buildServer assembles the registry, session manager and HTTP server.
func buildServer(o serverOptions, log *slog.Logger) (*server.Server, func()) {
	srv, _, cleanup := buildServerManager(o, log)
	return srv, cleanup
}

// buildServerManager is buildServer, also returning the session manager.
func buildServerManager(o serverOptions, log *slog.Logger) (*server.Server, *session.Manager, func()) {
	cfg := session.Config{Registry: newRegistry(o), Logger: log, Env: agentEnv, Installer: newInstaller(),
		TurnIdleTimeout: o.turnIdleTimeout}
	if o.st != nil {
		cfg.Store = o.st
	}
	if o.root != nil {
		cfg.Dir = o.root.Dir()
	}
	mgr := session.NewManager(cfg)
	srv := server.New(server.Config{
		Manager: mgr, Token: o.token, CORS: o.cors, Logger: log, Version: Version,
		MaxUploadBytes: o.maxUploadBytes, Credentials: credentialsAvailable, Installer: newInstaller(),
		FSRoot: o.root, UI: UI,
	})
	return srv, mgr, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mgr.Shutdown(ctx)
	}
}

func runServer(ctx context.Context, o serverOptions, log *slog.Logger) error {
	if o.fsRoot != "" {
		root, err := server.OpenFSRoot(o.fsRoot)
		if err != nil {
			return fmt.Errorf("--fs-root: %w", err)
		}
		defer root.Close()
		o.root = root
	}
	// BecomeReaper before any agent starts: it kills what a previous
	// instance left behind and records what this one starts.
	killed, stopReaping, err := process.BecomeReaper(filepath.Join(stateDir(o.dataDir), "process-groups"))
	if err != nil {
		log.Warn("agent process supervision is incomplete", "err", err)
	}
	if killed > 0 {
		log.Info("killed agent process groups a previous instance left behind", "groups", killed)
	}
	defer stopReaping() // runs last: after every group was killed
	st, err := openStore(ctx, o.store, o.dataDir, log)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close() // after the sessions are shut down
		o.st = st
	}
	srv, mgr, cleanup := buildServerManager(o, log)
	defer cleanup()
	if st != nil {
		n, err := mgr.Reload(ctx)
		if err != nil {
			return err
		}
		log.Info("sessions reloaded from the store", "count", n)
		rctx, stopRetain := context.WithCancel(ctx)
		defer stopRetain()
		go retain(rctx, mgr, o.store, log, time.Hour)
	}
	defer process.KillAll(3 * time.Second)

	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, o.port))
	if err != nil {
		return fmt.Errorf("listen on %s:%s: %w", o.host, o.port, err)
	}
	// Handlers of long-lived streams watch this context, so shutdown does
	// not wait for SSE clients to leave.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	// No ReadTimeout or WriteTimeout: uploads and event streams are long by
	// design. Event streams bound each write themselves (server.Config
	// WriteTimeout), so a reader that stops reading cannot pin a handler.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: o.headerTimeout, IdleTimeout: o.idleTimeout,
		BaseContext: func(net.Listener) context.Context { return baseCtx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	addr := ln.Addr().(*net.TCPAddr)
	shown := o.host
	if shown == "0.0.0.0" || shown == "::" || shown == "" {
		shown = "localhost"
	}
	base := "http://" + net.JoinHostPort(shown, strconv.Itoa(addr.Port))
	attrs := []any{"addr", ln.Addr().String(), "url", base, "auth", o.token != ""}
	if UI != nil {
		attrs = append(attrs, "inspector", base+"/ui/")
	}
	log.Info("server listening", attrs...)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !strings.Contains(err.Error(), "closed") {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}

// stateDir is --data-dir, else $XDG_STATE_HOME/sandbox-agent, else
// ~/.local/state/sandbox-agent (./.sandbox-agent/state without a home).
func stateDir(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "sandbox-agent")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".local", "state", "sandbox-agent")
	}
	return filepath.Join(".sandbox-agent", "state")
}
