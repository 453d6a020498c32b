//go:build unix

package process

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The shape of session.ended's stderr, as the reference API defines it.
const (
	headLines    = 20
	tailLines    = 50
	maxLineBytes = 500
)

// stderrBuf is an io.Writer that keeps the first headLines and the last
// tailLines lines of everything written to it, each cut to maxLineBytes.
// Memory stays bounded however much a child writes: a chatty agent must not
// be able to grow the server's heap through its stderr.
type stderrBuf struct {
	mu    sync.Mutex
	head  []string
	tail  [tailLines]string // ring; tail[next] is the oldest once full
	next  int
	inRng int // lines in the ring
	total int

	// The line being written: at most maxLineBytes+1 bytes are kept, enough
	// to know whether it must be cut and where the cut's rune boundary is.
	cur     []byte
	dropped bool // bytes of the current line beyond cur were discarded
}

func newStderrBuf() *stderrBuf {
	return &stderrBuf{cur: make([]byte, 0, maxLineBytes+1)}
}

// Write never fails, so the child is never blocked or broken by capture.
func (b *stderrBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.appendCur(p)
			break
		}
		b.appendCur(p[:i])
		b.push(b.line())
		b.cur, b.dropped = b.cur[:0], false
		p = p[i+1:]
	}
	return n, nil
}

func (b *stderrBuf) appendCur(p []byte) {
	room := cap(b.cur) - len(b.cur)
	if len(p) > room {
		p, b.dropped = p[:room], true
	}
	b.cur = append(b.cur, p...)
}

// line renders the current line: a trailing \r dropped (CRLF output), then
// cut to maxLineBytes on a rune boundary, so the JSON stays readable.
func (b *stderrBuf) line() string {
	l := b.cur
	if !b.dropped && len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	if len(l) <= maxLineBytes {
		return string(l)
	}
	cut := maxLineBytes
	for cut > 0 && !utf8.RuneStart(l[cut]) {
		cut--
	}
	return string(l[:cut]) + "..."
}

func (b *stderrBuf) push(l string) {
	b.total++
	if len(b.head) < headLines {
		b.head = append(b.head, l)
		return
	}
	b.tail[b.next] = l
	b.next = (b.next + 1) % tailLines
	b.inRng = min(b.inRng+1, tailLines)
}

// snapshot returns copies of head and tail lines and the total, counting an
// unterminated last line as a line, without consuming it: the process may
// still be writing it.
func (b *stderrBuf) snapshot() (head, tail []string, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := stderrBuf{head: append([]string(nil), b.head...), tail: b.tail,
		next: b.next, inRng: b.inRng, total: b.total}
	if len(b.cur) > 0 || b.dropped {
		c.push(b.line())
	}
	start := (c.next - c.inRng + tailLines) % tailLines
	for i := range c.inRng {
		tail = append(tail, c.tail[(start+i)%tailLines])
	}
	return c.head, tail, c.total
}

// output renders the buffer the way session.ended reports stderr.
func (b *stderrBuf) output() schema.StderrOutput {
	head, tail, total := b.snapshot()
	out := schema.StderrOutput{TotalLines: &total}
	if total == 0 {
		return out
	}
	if total <= headLines+tailLines {
		// Nothing was dropped, so the ring holds every line after the head.
		all := strings.Join(append(head, tail...), "\n")
		out.Head = &all
		return out
	}
	h, t := strings.Join(head, "\n"), strings.Join(tail, "\n")
	out.Head, out.Tail, out.Truncated = &h, &t, true
	return out
}

func (b *stderrBuf) text() string {
	o := b.output()
	switch {
	case o.Head == nil:
		return ""
	case !o.Truncated:
		return *o.Head
	}
	omitted := *o.TotalLines - headLines - tailLines
	return fmt.Sprintf("%s\n... %d lines omitted ...\n%s", *o.Head, omitted, *o.Tail)
}
