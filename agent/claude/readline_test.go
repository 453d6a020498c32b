package claude

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// readLine hands out lines in r's buffer when they fit and gathers longer
// ones; the converter copies what it keeps, so its drafts survive the next
// read.
func TestReadLineAndReuse(t *testing.T) {
	long := `{"type":"e2e_long","x":"` + strings.Repeat("y", 100) + `"}`
	// Lines of up to 16 bytes fit the buffer and are handed out in place.
	in := `{"type":"a"}` + "\n" + `{"type":"b"}` + "\n" + long + "\n" + "\n" + `{"type":"c"}`
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	var got []string
	c := NewConverter()
	raws := 0
	for {
		line, err := readLine(r)
		got = append(got, string(line))
		for _, d := range c.Line(line) {
			raws++
			defer func(d []byte, keep []byte) {
				if !bytes.Equal(d, keep) {
					t.Errorf("a draft's raw changed after later reads: %q, was %q", d, keep)
				}
			}(d.Raw, bytes.Clone(d.Raw))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`{"type":"a"}` + "\n", `{"type":"b"}` + "\n", long + "\n", "\n", `{"type":"c"}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines\n%q\nwant\n%q", got, want)
	}
	if raws != 4 {
		t.Errorf("%d drafts, want 4 (one agent.unparsed a line)", raws)
	}
}
