package claude

import "testing"

// BenchmarkConverterLine converts every captured stdout stream, line by
// line, as the adapter's reader does: the per-line cost of the hot path.
func BenchmarkConverterLine(b *testing.B) {
	var lines [][]byte
	size := 0
	for _, f := range stdoutFixtures(b) {
		for _, l := range readLines(b, f) {
			if len(l) > 0 && l[0] != '#' {
				lines = append(lines, l)
				size += len(l)
			}
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConverter()
		for _, l := range lines {
			c.Line(l)
		}
	}
}
