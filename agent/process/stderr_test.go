//go:build unix

package process

import (
	"fmt"
	"strings"
	"testing"
)

func lines(from, to int) string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf("line %d", i))
	}
	return strings.Join(s, "\n")
}

func writeLines(b *stderrBuf, n int) {
	for i := 1; i <= n; i++ {
		fmt.Fprintf(b, "line %d\n", i)
	}
}

func TestStderrEmpty(t *testing.T) {
	o := newStderrBuf().output()
	if o.Head != nil || o.Tail != nil || o.Truncated || o.TotalLines == nil || *o.TotalLines != 0 {
		t.Fatalf("empty output = %+v", o)
	}
	if s := newStderrBuf().text(); s != "" {
		t.Fatalf("text = %q", s)
	}
}

func TestStderrHeadTail(t *testing.T) {
	for _, tc := range []struct {
		n          int
		head, tail string
	}{
		{1, lines(1, 1), ""},
		{70, lines(1, 70), ""},
		{71, lines(1, 20), lines(22, 71)},
		{1000, lines(1, 20), lines(951, 1000)},
	} {
		b := newStderrBuf()
		writeLines(b, tc.n)
		o := b.output()
		if *o.TotalLines != tc.n || o.Truncated != (tc.tail != "") || *o.Head != tc.head {
			t.Errorf("%d lines: total=%d truncated=%v head=%q", tc.n, *o.TotalLines, o.Truncated, *o.Head)
		}
		if tc.tail == "" && o.Tail != nil || tc.tail != "" && (o.Tail == nil || *o.Tail != tc.tail) {
			t.Errorf("%d lines: tail = %v, want %q", tc.n, o.Tail, tc.tail)
		}
	}
}

func TestStderrText(t *testing.T) {
	b := newStderrBuf()
	writeLines(b, 1000)
	want := lines(1, 20) + "\n... 930 lines omitted ...\n" + lines(951, 1000)
	if got := b.text(); got != want {
		t.Fatalf("text = %q", got)
	}
}

// Lines arrive in arbitrary chunks; an unterminated last line counts, but
// reading it must not consume it, since the writer may continue it.
func TestStderrChunksAndPartialLine(t *testing.T) {
	b := newStderrBuf()
	for _, s := range []string{"a\nb", "c\r\n", "\n", "d"} {
		b.Write([]byte(s))
	}
	for range 2 {
		if o := b.output(); *o.Head != "a\nbc\n\nd" || *o.TotalLines != 4 {
			t.Fatalf("head=%q total=%d", *o.Head, *o.TotalLines)
		}
	}
	b.Write([]byte("e\n"))
	if o := b.output(); *o.Head != "a\nbc\n\nde" || *o.TotalLines != 4 {
		t.Fatalf("after completing: head=%q total=%d", *o.Head, *o.TotalLines)
	}
}

func TestStderrLongLines(t *testing.T) {
	a500 := strings.Repeat("a", 500)
	for _, tc := range []struct{ name, in, want string }{
		{"exactly 500", a500 + "\n", a500},
		{"500 plus CR", a500 + "\r\n", a500},
		{"501", a500 + "b\n", a500 + "..."},
		{"huge", strings.Repeat("x", 1<<20) + "\n", strings.Repeat("x", 500) + "..."},
		// é is 2 bytes straddling the cut: it goes whole or not at all.
		{"rune boundary", strings.Repeat("a", 499) + "é" + "zz\n", strings.Repeat("a", 499) + "..."},
	} {
		b := newStderrBuf()
		b.Write([]byte(tc.in))
		if o := b.output(); *o.Head != tc.want {
			t.Errorf("%s: head = %q (len %d)", tc.name, *o.Head, len(*o.Head))
		}
	}
}

// Memory stays bounded: a line that never ends is not accumulated.
func TestStderrBounded(t *testing.T) {
	b := newStderrBuf()
	chunk := []byte(strings.Repeat("y", 64<<10))
	for range 160 { // 10 MiB
		if n, err := b.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if len(b.cur) > maxLineBytes+1 || cap(b.cur) > maxLineBytes+1 {
		t.Fatalf("current line grew to len %d cap %d", len(b.cur), cap(b.cur))
	}
	if o := b.output(); *o.TotalLines != 1 || len(*o.Head) != maxLineBytes+3 {
		t.Fatalf("total=%d len(head)=%d", *o.TotalLines, len(*o.Head))
	}
}
