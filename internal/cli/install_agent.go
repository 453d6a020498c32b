package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sandbox-agent/sandbox-agent/install"
)

func init() { extraCommands = append(extraCommands, newInstallAgentCmd) }

// newInstallAgentCmd is `sandbox-agent install-agent <agent|all>`.
func newInstallAgentCmd() *cobra.Command {
	var (
		reinstall bool
		version   string
		source    string
	)
	cmd := &cobra.Command{
		Use:   "install-agent <agent|all>",
		Short: "Install an agent CLI (" + strings.Join(install.Agents(), ", ") + ", or all)",
		Long: `Install an agent CLI into the install directory ($SANDBOX_AGENT_INSTALL_DIR,
else $XDG_DATA_HOME/sandbox-agent/bin, else ~/.local/share/sandbox-agent/bin).

Sources: "release" downloads the agent's official release build, "npm" takes
the native binary from the npm registry (no npm or node needed; the registry
comes from NPM_CONFIG_REGISTRY or .npmrc), "auto" tries release, then npm.
Nothing is downloaded when the agent is already installed or on PATH, unless
--reinstall is given or --agent-version names another version.`,
		Example: `  sandbox-agent install-agent claude
  sandbox-agent install-agent all --source npm
  sandbox-agent install-agent codex --agent-version 0.40.0 --reinstall`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: append(install.Agents(), "all"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := install.ParseSource(source)
			if err != nil {
				return err
			}
			agents := []string{args[0]}
			if args[0] == "all" {
				if version != "" {
					return errors.New("--agent-version applies to one agent; name the agent instead of all")
				}
				agents = install.Agents()
			} else if !slices.Contains(install.Agents(), args[0]) && args[0] != "mock" {
				return fmt.Errorf("unknown agent %q (valid: %s, all)", args[0], strings.Join(install.Agents(), ", "))
			}
			m := installer()
			stderr := cmd.ErrOrStderr()
			var failed []string
			for _, a := range agents {
				rep := newInstallReporter(stderr)
				res, err := m.Install(cmd.Context(), a, install.Options{
					Version:   version,
					Reinstall: reinstall,
					Source:    src,
					Progress:  rep.report,
				})
				rep.finish()
				if err != nil {
					if len(agents) == 1 {
						return err
					}
					fmt.Fprintln(stderr, "error:", err)
					failed = append(failed, a)
					continue
				}
				out := cmd.OutOrStdout()
				switch {
				case a == "mock":
					fmt.Fprintln(out, "mock is built in; nothing to install")
				case res.Installed:
					fmt.Fprintf(out, "%s %s installed at %s (from %s)\n", a, res.Version, res.Path, res.Source)
				default:
					fmt.Fprintf(out, "%s %s already installed at %s\n", a, res.Version, res.Path)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("installing %s failed", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&reinstall, "reinstall", false, "download and install again even if already installed")
	cmd.Flags().StringVar(&version, "agent-version", "", "install this version instead of the newest")
	cmd.Flags().StringVar(&source, "source", "auto", "where to download from: auto, release or npm")
	return cmd
}

// installReporter shows install progress: a progress bar with bytes and
// speed on a terminal, plain log lines otherwise.
type installReporter struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	url   string
	phase string
	// plain-mode throttling
	lastLog   time.Time
	lastDone  int64
	startTime time.Time
}

func newInstallReporter(w io.Writer) *installReporter {
	r := &installReporter{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
	}
	return r
}

func (r *installReporter) report(p install.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Message != "" {
		r.closeBar()
		fmt.Fprintf(r.w, "%s: %s\n", p.Agent, p.Message)
	}
	if r.tty {
		r.reportTTY(p)
		return
	}
	r.reportPlain(p)
}

func (r *installReporter) reportTTY(p install.Progress) {
	if p.Phase == "download" {
		if r.bar == nil || p.URL != r.url {
			r.closeBar()
			r.url = p.URL
			r.bar = progressbar.NewOptions64(p.Total,
				progressbar.OptionSetWriter(r.w),
				progressbar.OptionSetDescription(p.Agent),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionFullWidth(),
			)
		}
		if p.Total > 0 && r.bar.GetMax64() != p.Total {
			r.bar.ChangeMax64(p.Total)
		}
		r.bar.Set64(p.Done)
		return
	}
	if p.Phase == r.phase {
		return
	}
	r.closeBar()
	r.phase = p.Phase
	switch p.Phase {
	case "resolve":
		fmt.Fprintf(r.w, "%s: resolving\n", p.Agent)
	case "verify", "extract":
		fmt.Fprintf(r.w, "%s: %s\n", p.Agent, p.Phase)
	}
}

func (r *installReporter) closeBar() {
	if r.bar != nil {
		r.bar.Finish()
		r.bar = nil
	}
}

func (r *installReporter) reportPlain(p install.Progress) {
	now := time.Now()
	switch p.Phase {
	case "download":
		if p.URL != r.url || r.phase != "download" {
			r.url, r.phase = p.URL, "download"
			r.startTime, r.lastLog, r.lastDone = now, now, 0
			fmt.Fprintf(r.w, "%s: downloading %s\n", p.Agent, p.URL)
			return
		}
		// A line every 5 s is enough for CI logs.
		if now.Sub(r.lastLog) < 5*time.Second && (p.Total <= 0 || p.Done < p.Total) {
			return
		}
		if p.Done == r.lastDone {
			return
		}
		speed := float64(p.Done-r.lastDone) / now.Sub(r.lastLog).Seconds()
		if p.Total > 0 && p.Done == p.Total {
			speed = float64(p.Done) / now.Sub(r.startTime).Seconds()
		}
		r.lastLog, r.lastDone = now, p.Done
		if p.Total > 0 {
			fmt.Fprintf(r.w, "%s: %s of %s (%d%%, %s/s)\n", p.Agent, humanBytes(p.Done), humanBytes(p.Total), p.Done*100/p.Total, humanBytes(int64(speed)))
		} else {
			fmt.Fprintf(r.w, "%s: %s (%s/s)\n", p.Agent, humanBytes(p.Done), humanBytes(int64(speed)))
		}
	default:
		if p.Phase == r.phase {
			return
		}
		r.phase = p.Phase
		if p.URL != "" && p.Phase == "resolve" {
			fmt.Fprintf(r.w, "%s: resolving (%s)\n", p.Agent, p.URL)
		} else {
			fmt.Fprintf(r.w, "%s: %s\n", p.Agent, p.Phase)
		}
	}
}

func (r *installReporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeBar()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
