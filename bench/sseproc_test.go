package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An SSE subscriber in a process of its own, so that the report's CPU
// figures are the server's alone: the bench test binary run through a link
// named "sse-reader", with the stream's URL as its argument. It reads the
// stream without decoding events, checks that sequences arrive contiguous
// from 1, and prints "end <seq>" for every turn.ended ("err <why>" and
// exit status 1 when the stream breaks).

func isSSEReader() bool { return filepath.Base(os.Args[0]) == "sse-reader" }

func sseReader() {
	var last uint64
	turnEnded := []byte(`"type":"turn.ended"`)
	out := bufio.NewWriter(os.Stdout)
	err := readFrames(context.Background(), http.DefaultClient, os.Args[1], func(seq uint64, data []byte) bool {
		if seq != last+1 {
			fmt.Fprintf(out, "err sequence %d after %d\n", seq, last)
			return false
		}
		last = seq
		if bytes.Contains(data, turnEnded) {
			fmt.Fprintf(out, "end %d\n", seq)
			out.Flush()
		}
		return true
	})
	if err != nil && err != io.EOF {
		fmt.Fprintf(out, "err %v\n", err)
	}
	out.Flush()
	os.Exit(1)
}

// procReader is a running sse-reader.
type procReader struct {
	cmd  *exec.Cmd
	ends chan uint64
	errs chan error
}

// readOutOfProcess starts an sse-reader on the session's stream.
func (r *rig) readOutOfProcess(t *testing.T, id string) *procReader {
	cmd := exec.Command(selfAs(t, "sse-reader"), r.ts.URL+"/v1/sessions/"+id+"/events/sse")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &procReader{cmd: cmd, ends: make(chan uint64, 64), errs: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			word, rest, _ := strings.Cut(sc.Text(), " ")
			if word == "end" {
				n, _ := strconv.ParseUint(rest, 10, 64)
				p.ends <- n
				continue
			}
			p.errs <- fmt.Errorf("sse-reader: %s", rest)
			return
		}
		p.errs <- fmt.Errorf("sse-reader stopped")
	}()
	t.Cleanup(p.stop)
	return p
}

// ended waits for the next turn.ended the reader read.
func (p *procReader) ended() (uint64, error) {
	select {
	case n := <-p.ends:
		return n, nil
	case err := <-p.errs:
		return 0, err
	case <-time.After(turnTimeout):
		return 0, fmt.Errorf("sse-reader: no turn.ended after %s", turnTimeout)
	}
}

func (p *procReader) stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}
