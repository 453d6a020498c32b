package session

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// timeFormat is RFC 3339 in UTC with a fixed nanosecond fraction, as the
// reference stamps events.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// pipeline turns drafts into stamped events. It holds the per-session state
// that makes the schema's promises true for every agent: stable item ids,
// item.started before anything else of an item, a delta for every non-user
// message, one session.started, balanced turns. It is not safe for
// concurrent use; the session serialises calls.
type pipeline struct {
	sessionID  string
	native     string
	nativePtr  *string // &native as stamped on events
	nextSeq    uint64
	nextItem   int
	itemIDs    map[string]string // native item id → itm_N
	items      map[string]*itemState
	lastOpen   string // last started, not completed message item (deltas without ids go here)
	started    bool   // session.started stored
	turn       bool   // a turn is running
	queued     int    // sends accepted while a turn was running, not yet started
	turnsEnded int    // count of turn.ended events, to tell whether an agent closed its turn
	now        func() time.Time
}

type itemState struct {
	started, delta bool
}

func newPipeline(sessionID string, now func() time.Time) *pipeline {
	return &pipeline{sessionID: sessionID, nextSeq: 1, itemIDs: map[string]string{}, items: map[string]*itemState{}, now: now}
}

// run converts one draft into zero or more stamped events.
func (p *pipeline) run(d agent.Draft) []schema.Event {
	if d.NativeSessionID != "" && p.native == "" {
		p.native = d.NativeSessionID
	}
	if d.Data == nil {
		data, err := schema.NewData(d.Type)
		if err != nil {
			return p.unparsed(fmt.Sprintf("draft with unknown type %q", d.Type), d.Raw)
		}
		d.Data = data
	}
	var out []schema.Event
	switch d.Type {
	case schema.EventSessionStarted:
		if p.started {
			return nil
		}
		p.started = true
	case schema.EventTurnStarted:
		if p.turn {
			return nil
		}
		p.turn = true
	case schema.EventTurnEnded:
		if !p.turn {
			return nil
		}
		p.turn = false
		p.turnsEnded++
		if p.queued > 0 {
			// The agent now starts the next queued message: give it its
			// own turn.started, so every send has a balanced turn.
			p.queued--
			p.turn = true
			return []schema.Event{p.stamp(d), p.stamp(agent.Draft{Type: schema.EventTurnStarted, Synthetic: true,
				Data: &schema.TurnEventData{Phase: schema.PhaseStarted}})}
		}
	case schema.EventItemStarted, schema.EventItemCompleted:
		data, ok := d.Data.(*schema.ItemEventData)
		if !ok {
			return p.unparsed("item event without item data", d.Raw)
		}
		it := data.Item // copy: the draft's item is the adapter's
		it.Content = append([]schema.ContentPart(nil), it.Content...)
		p.assignItem(&it)
		st := p.state(it.ItemID)
		if d.Type == schema.EventItemStarted {
			if st.started {
				return nil
			}
			st.started = true
			it.Status = schema.StatusInProgress
			p.noteOpen(it)
			d.Data = &schema.ItemEventData{Item: it}
			break
		}
		if !st.started {
			st.started = true
			s := it
			s.Status = schema.StatusInProgress
			out = append(out, p.stamp(agent.Draft{Type: schema.EventItemStarted, Data: &schema.ItemEventData{Item: s}, Synthetic: true}))
		}
		if it.Kind == schema.KindMessage && (it.Role == nil || *it.Role != schema.RoleUser) && !st.delta {
			if text := it.Text(); text != "" {
				st.delta = true
				out = append(out, p.stamp(agent.Draft{Type: schema.EventItemDelta, Synthetic: true,
					Data: &schema.ItemDeltaData{ItemID: it.ItemID, NativeItemID: it.NativeItemID, Delta: text}}))
			}
		}
		if p.lastOpen == it.ItemID {
			p.lastOpen = ""
		}
		d.Data = &schema.ItemEventData{Item: it}
	case schema.EventItemDelta:
		data, ok := d.Data.(*schema.ItemDeltaData)
		if !ok {
			return p.unparsed("item.delta without delta data", d.Raw)
		}
		dd := *data
		if dd.ItemID == "" {
			switch {
			case dd.NativeItemID != nil && *dd.NativeItemID != "":
				dd.ItemID = p.idFor(*dd.NativeItemID)
			case p.lastOpen != "":
				dd.ItemID = p.lastOpen
			default:
				dd.ItemID = p.newID()
			}
		}
		st := p.state(dd.ItemID)
		if !st.started {
			st.started = true
			it := schema.Item{ItemID: dd.ItemID, NativeItemID: dd.NativeItemID, Kind: schema.KindMessage,
				Role: schema.Ptr(schema.RoleAssistant), Status: schema.StatusInProgress}
			p.noteOpen(it)
			out = append(out, p.stamp(agent.Draft{Type: schema.EventItemStarted, Data: &schema.ItemEventData{Item: it}, Synthetic: true}))
		}
		st.delta = true
		d.Data = &dd
	}
	return append(out, p.stamp(d))
}

// turnEnd returns the synthetic turn.ended that closes a running turn, if any.
func (p *pipeline) turnEnd() []schema.Event {
	if !p.turn {
		return nil
	}
	p.turn = false
	p.turnsEnded++
	return []schema.Event{p.stamp(agent.Draft{Type: schema.EventTurnEnded, Synthetic: true, Data: &schema.TurnEventData{Phase: schema.PhaseEnded}})}
}

func (p *pipeline) noteOpen(it schema.Item) {
	if it.Kind == schema.KindMessage && it.Role != nil && *it.Role != schema.RoleUser {
		p.lastOpen = it.ItemID
	}
}

func (p *pipeline) state(id string) *itemState {
	st := p.items[id]
	if st == nil {
		st = &itemState{}
		p.items[id] = st
	}
	return st
}

func (p *pipeline) assignItem(it *schema.Item) {
	if !strings.HasPrefix(it.ItemID, "itm_") {
		if it.NativeItemID != nil && *it.NativeItemID != "" {
			it.ItemID = p.idFor(*it.NativeItemID)
		} else {
			it.ItemID = p.newID()
		}
	}
	if it.ParentID != nil && !strings.HasPrefix(*it.ParentID, "itm_") {
		if *it.ParentID == "" {
			it.ParentID = nil
		} else {
			it.ParentID = schema.Ptr(p.idFor(*it.ParentID))
		}
	}
	if it.Status == "" {
		it.Status = schema.StatusCompleted
	}
}

func (p *pipeline) idFor(native string) string {
	if id, ok := p.itemIDs[native]; ok {
		return id
	}
	id := p.newID()
	p.itemIDs[native] = id
	return id
}

func (p *pipeline) newID() string {
	p.nextItem++
	return fmt.Sprintf("itm_%d", p.nextItem)
}

func (p *pipeline) unparsed(msg string, raw json.RawMessage) []schema.Event {
	return []schema.Event{p.stamp(agent.Unparsed("session", msg, raw))}
}

// stamp gives a draft its identity.
func (p *pipeline) stamp(d agent.Draft) schema.Event {
	seq := p.nextSeq
	p.nextSeq++
	ev := schema.Event{
		EventID:   schema.EventID(seq),
		Sequence:  seq,
		Time:      p.now().UTC().Format(timeFormat),
		SessionID: p.sessionID,
		Synthetic: d.Synthetic,
		Source:    schema.SourceAgent,
		Type:      d.Type,
		Data:      d.Data,
		Raw:       d.Raw,
	}
	if d.Synthetic {
		ev.Source = schema.SourceDaemon
	}
	if p.native != "" {
		if p.nativePtr == nil || *p.nativePtr != p.native {
			p.nativePtr = schema.Ptr(p.native) // shared by the events: one allocation, not one per event
		}
		ev.NativeSessionID = p.nativePtr
	}
	return ev
}
