package amp

import "testing"

// BenchmarkConverterLine converts every fixture stream, line by line, as
// the adapter's reader does.
func BenchmarkConverterLine(b *testing.B) {
	var lines [][]byte
	size := 0
	for _, f := range fixtures(b) {
		for _, l := range readLines(b, f) {
			lines = append(lines, l)
			size += len(l)
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
