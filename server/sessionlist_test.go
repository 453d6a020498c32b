package server

import (
	"fmt"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestPageSessions(t *testing.T) {
	var all []schema.SessionInfo // newest first, as Manager.List orders them
	for i := 9; i >= 0; i-- {
		s := schema.SessionInfo{SessionID: fmt.Sprintf("s%d", i), Agent: []string{"claude", "codex"}[i%2],
			CreatedAt: int64(1000 + i/2), UpdatedAt: int64(2000 + i)} // createdAt ties: the id breaks them
		s.Ended = i%3 == 0
		s.Detached = i%3 == 1
		all = append(all, s)
	}
	ids := func(ss []schema.SessionInfo) string {
		out := ""
		for _, s := range ss {
			out += s.SessionID + " "
		}
		return out
	}
	// Every page, followed by cursor, lists each session once, in order.
	var walked []schema.SessionInfo
	in := &sessionListIn{Limit: 3}
	for pages := 0; ; pages++ {
		res, err := pageSessions(all, in)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, res.Sessions...)
		if res.NextCursor == nil {
			break
		}
		if pages > 5 || len(res.Sessions) != 3 {
			t.Fatalf("page %d: %s", pages, ids(res.Sessions))
		}
		in.Cursor = *res.NextCursor
	}
	if ids(walked) != ids(all) {
		t.Fatalf("paging walked %s, want %s", ids(walked), ids(all))
	}
	for _, c := range []struct {
		in   sessionListIn
		want string
	}{
		{sessionListIn{}, ids(all)},
		{sessionListIn{Agent: "codex"}, "s9 s7 s5 s3 s1 "},
		{sessionListIn{Status: "ended"}, "s9 s6 s3 s0 "},
		{sessionListIn{Status: "detached"}, "s7 s4 s1 "},
		{sessionListIn{Status: "live"}, "s8 s5 s2 "},
		{sessionListIn{Since: 2007}, "s9 s8 s7 "},
		{sessionListIn{Agent: "claude", Status: "live", Limit: 1}, "s8 "},
	} {
		res, err := pageSessions(all, &c.in)
		if err != nil || ids(res.Sessions) != c.want {
			t.Errorf("%+v: %s %v, want %s", c.in, ids(res.Sessions), err, c.want)
		}
	}
	_, err := pageSessions(all, &sessionListIn{Cursor: "!!"})
	if pe, ok := problem.As(err); !ok || pe.Kind != problem.InvalidRequest {
		t.Fatalf("bad cursor: %v", err)
	}
}
