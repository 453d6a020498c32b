// Command mcpstub runs the test MCP server of package mcpstub as a process:
// on stdio by default (as an agent CLI starts a local MCP server), or on
// streamable HTTP with -http.
//
//	mcpstub [-tag T] [-log calls.jsonl]
//	mcpstub -http 127.0.0.1:0 [-tag T] [-log calls.jsonl]
//
// The tag (default $MCPSTUB_TAG) shows in the echo tool's output, so a test
// can tell which server, started with which environment, answered. -log
// appends every message received as a JSON line (mcpstub.Call). With
// -http the first line on stdout is the server's URL (http://host:port/mcp).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/mcpstub"
)

func main() {
	addr := flag.String("http", "", "serve streamable HTTP on this address instead of stdio")
	tag := flag.String("tag", os.Getenv("MCPSTUB_TAG"), "tag shown in the echo tool's output")
	logPath := flag.String("log", "", "append each received message to this file as a JSON line")
	flag.Parse()
	if err := run(*addr, *tag, *logPath); err != nil {
		fmt.Fprintln(os.Stderr, "mcpstub:", err)
		os.Exit(1)
	}
}

func run(addr, tag, logPath string) error {
	s := &mcpstub.Server{Tag: tag}
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		var mu sync.Mutex
		enc := json.NewEncoder(f)
		s.OnCall = func(c mcpstub.Call) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(c)
		}
	}
	if addr == "" {
		return s.ServeStdio(os.Stdin, os.Stdout)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("http://%s/mcp\n", ln.Addr())
	return http.Serve(ln, s)
}
