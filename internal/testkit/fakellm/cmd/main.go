// Command fakellm serves a scripted fake model (see package fakellm) for
// manual runs of the agent CLIs:
//
//	go run ./internal/testkit/fakellm/cmd -scenario steps.json -addr 127.0.0.1:18080
//
// Without -scenario every request is answered from FAKE_* markers in the
// prompt (fakellm.Markers). Each request is logged to stderr; with -log it is
// also appended to a file as a JSON line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address (loopback only)")
	scenarioPath := flag.String("scenario", "", "JSON scenario file (default: answer from FAKE_* prompt markers)")
	logPath := flag.String("log", "", "append each request as a JSON line to this file")
	flag.Parse()
	if err := run(*addr, *scenarioPath, *logPath); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(addr, scenarioPath, logPath string) error {
	markers := fakellm.Markers()
	sc := fakellm.Scenario{Fallback: &markers}
	if scenarioPath != "" {
		var err error
		if sc, err = fakellm.LoadScenario(scenarioPath); err != nil {
			return err
		}
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	opts := []fakellm.Option{fakellm.WithAddr(addr), fakellm.WithScenario(sc), fakellm.WithLogf(logger.Printf)}
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("fakellm: %w", err)
		}
		defer f.Close()
		var mu sync.Mutex
		enc := json.NewEncoder(f)
		opts = append(opts, fakellm.WithOnRequest(func(r fakellm.Request) {
			mu.Lock()
			defer mu.Unlock()
			if err := enc.Encode(logLine(r)); err != nil {
				logger.Printf("fakellm: -log: %v", err)
			}
		}))
	}
	srv, err := fakellm.Start(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	logger.Printf("fakellm: serving on %s (ANTHROPIC_BASE_URL=%s, OpenAI base URL %s)", srv.URL(), srv.URL(), srv.OpenAIBaseURL())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return nil
}

// logLine is the JSON form of one recorded request.
func logLine(r fakellm.Request) map[string]any {
	body := json.RawMessage(r.Body)
	if r.JSON == nil {
		body, _ = json.Marshal(string(r.Body))
	}
	return map[string]any{
		"seq": r.Seq, "time": r.Time, "method": r.Method, "path": r.Path, "query": r.Query,
		"headers": r.Header, "body": body, "served": r.Served, "step": r.Step,
	}
}
