package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Row outcomes.
const (
	statusPass  = "pass"
	statusSkip  = "skip"
	statusFail  = "fail"
	statusKnown = "known" // failed, as a registered known bug says it does
)

// Extra matrix rows that are not scenarios.
const (
	rowInstall = "install"
	rowWire    = "wire"
)

var extraRows = []struct{ id, title string }{
	{rowInstall, "installs from npm at the pinned version (our installer)"},
	{rowWire, "CLI talks to fakellm directly: text, shell, write, edit (no adapter)"},
}

// result is one cell of the matrix.
type result struct {
	Status  string  `json:"status"`
	Reason  string  `json:"reason,omitempty"`
	Seconds float64 `json:"seconds"`
}

var (
	resultsMu     sync.Mutex
	results       = map[string]map[string]result{} // agent → row → result
	skipReasons   sync.Map                         // test name → reason
	started       sync.Map                         // test name → start time
	knownFailures sync.Map                         // test name → known bug that made it fail
)

// track records the outcome of the calling test as the (agent, row) cell
// once the test and all its cleanups are done. Call it first in the test.
func track(t *testing.T, agent, row string) {
	started.Store(t.Name(), time.Now())
	t.Cleanup(func() {
		t0, _ := started.Load(t.Name())
		res := result{Status: statusPass, Seconds: time.Since(t0.(time.Time)).Seconds()}
		known, isKnown := knownFailures.Load(t.Name())
		switch {
		case t.Failed():
			res.Status = statusFail
		case isKnown:
			res.Status, res.Reason = statusKnown, known.(string)
		case t.Skipped():
			res.Status = statusSkip
			if v, ok := skipReasons.Load(t.Name()); ok {
				res.Reason = v.(string)
			} else {
				res.Reason = "skipped"
			}
		}
		resultsMu.Lock()
		defer resultsMu.Unlock()
		if results[agent] == nil {
			results[agent] = map[string]result{}
		}
		results[agent][row] = res
	})
}

// resumed restarts the clock of a tracked test, after t.Parallel has
// waited for a slot.
func resumed(t *testing.T) { started.Store(t.Name(), time.Now()) }

// skipRow skips the test with a reason the matrix shows.
func skipRow(t testing.TB, reason string) {
	t.Helper()
	skipReasons.Store(t.Name(), reason)
	t.Skip(reason)
}

// matrixRows lists (id, title) of every row in order.
func matrixRows() [][2]string {
	var rows [][2]string
	for _, x := range extraRows {
		rows = append(rows, [2]string{x.id, x.title})
	}
	for _, s := range scenarios {
		rows = append(rows, [2]string{s.ID, s.Title})
	}
	return rows
}

func agentNames() []string {
	var out []string
	for _, a := range agents {
		out = append(out, a.Name)
	}
	return out
}

// cell renders a result for the docs table (no timings: they vary).
func cell(r result) string {
	switch r.Status {
	case statusPass:
		return "✅ pass"
	case statusSkip:
		return "⏭ " + strings.ReplaceAll(r.Reason, "|", "/")
	case statusKnown:
		return "⚠️ known bug: " + strings.ReplaceAll(r.Reason, "|", "/")
	}
	return "❌ FAIL"
}

// finish prints and writes the matrix and checks (or rewrites) the docs
// table. It returns a non-zero code when the docs disagree.
func finish(isolation string, took time.Duration) int {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return 0
	}
	ran := selectedAgents()
	var md bytes.Buffer
	fmt.Fprintf(&md, "e2e matrix (isolation: %s, %s, %s)\n\n", isolation, took.Round(time.Second), time.Now().UTC().Format(time.RFC3339))
	header := "| row |"
	sep := "|---|"
	for _, a := range ran {
		header += fmt.Sprintf(" %s %s |", a, Pins[a])
		sep += "---|"
	}
	md.WriteString(header + "\n" + sep + "\n")
	counts := map[string]map[string]int{}
	totals := map[string]float64{}
	for _, row := range matrixRows() {
		line := "| " + row[0] + " |"
		seen := false
		for _, a := range ran {
			r, ok := results[a][row[0]]
			if !ok {
				line += " |"
				continue
			}
			seen = true
			if counts[a] == nil {
				counts[a] = map[string]int{}
			}
			counts[a][r.Status]++
			totals[a] += r.Seconds
			line += fmt.Sprintf(" %s (%.1fs) |", cell(r), r.Seconds)
		}
		if seen {
			md.WriteString(line + "\n")
		}
	}
	md.WriteString("\n")
	for _, a := range ran {
		c := counts[a]
		fmt.Fprintf(&md, "%s: %d passed, %d skipped, %d failed, %d known bugs (%.0fs of row time)\n", a, c[statusPass], c[statusSkip], c[statusFail], c[statusKnown], totals[a])
	}
	fmt.Print("\n" + md.String())
	_ = os.WriteFile(filepath.Join(outDir(), "matrix.md"), md.Bytes(), 0o644)
	js, _ := json.MarshalIndent(map[string]any{"isolation": isolation, "pins": Pins, "results": results}, "", "  ")
	_ = os.WriteFile(filepath.Join(outDir(), "matrix.json"), js, 0o644)
	fmt.Printf("e2e: matrix written to %s\n", filepath.Join(outDir(), "matrix.md"))
	return docsTable()
}

// The docs page holds the table between these markers; the prose around
// it is hand-written.
const (
	docsPath   = "../docs/agent-compatibility.md"
	docsBegin  = "<!-- BEGIN e2e matrix -->"
	docsEnd    = "<!-- END e2e matrix -->"
	docsUpdate = "SANDBOX_AGENT_E2E_UPDATE_DOCS=1"
)

var docsRowID = regexp.MustCompile("^`([^`]+)`")

// notApplicable is the docs cell of an agent-specific row for the other
// agents.
const notApplicable = "—"

// docsTable checks the cells this run produced against the docs table, or
// rewrites them with envUpdateDocs=1. Cells of agents or rows that did not
// run are kept as they are.
func docsTable() int {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	doc := string(b)
	i, j := strings.Index(doc, docsBegin), strings.Index(doc, docsEnd)
	if i < 0 || j < i {
		fmt.Fprintf(os.Stderr, "e2e: %s has no %s … %s section\n", docsPath, docsBegin, docsEnd)
		return 1
	}
	old := parseDocsTable(doc[i+len(docsBegin) : j])
	names := agentNames()
	var diffs []string
	merged := map[string]map[string]string{}
	for _, row := range matrixRows() {
		merged[row[0]] = map[string]string{}
		for _, a := range names {
			was := old[row[0]][a]
			now := was
			if r, ok := results[a][row[0]]; ok {
				now = cell(r)
				if now != was {
					diffs = append(diffs, fmt.Sprintf("  %s / %s: docs say %q, this run %q", a, row[0], was, now))
				}
			}
			if now == "" {
				now = "not run"
			}
			if sc := findScenario(row[0]); sc != nil && !sc.appliesTo(a) {
				now = notApplicable // an agent-specific row
			}
			merged[row[0]][a] = now
		}
	}
	if os.Getenv(envUpdateDocs) != "1" {
		if len(diffs) == 0 {
			fmt.Printf("e2e: %s agrees with this run\n", docsPath)
			return 0
		}
		fmt.Fprintf(os.Stderr, "e2e: %s disagrees with this run:\n%s\nRe-run with %s (make e2e-docs) to rewrite the table, and commit it.\n",
			docsPath, strings.Join(diffs, "\n"), docsUpdate)
		return 1
	}
	var t strings.Builder
	t.WriteString("\n\n| scenario |")
	for _, a := range names {
		fmt.Fprintf(&t, " %s %s |", a, Pins[a])
	}
	t.WriteString("\n|---|" + strings.Repeat("---|", len(names)) + "\n")
	for _, row := range matrixRows() {
		fmt.Fprintf(&t, "| `%s` %s |", row[0], row[1])
		for _, a := range names {
			t.WriteString(" " + merged[row[0]][a] + " |")
		}
		t.WriteString("\n")
	}
	t.WriteString("\n")
	doc = doc[:i+len(docsBegin)] + t.String() + doc[j:]
	if err := os.WriteFile(docsPath, []byte(doc), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	fmt.Printf("e2e: rewrote the table in %s (%d cells changed)\n", docsPath, len(diffs))
	return 0
}

// parseDocsTable reads row id → agent → cell from the generated table.
func parseDocsTable(s string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cols []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		if cols == nil {
			for _, c := range cells[1:] {
				cols = append(cols, strings.Fields(c)[0])
			}
			continue
		}
		m := docsRowID.FindStringSubmatch(cells[0])
		if m == nil {
			continue
		}
		out[m[1]] = map[string]string{}
		for k, c := range cells[1:] {
			if k < len(cols) && !slices.Contains([]string{"", "not run", notApplicable}, c) {
				out[m[1]][cols[k]] = c
			}
		}
	}
	return out
}
