package session

import (
	"context"
	"fmt"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// phase is where a session is in its life. It only moves forward, and only
// under s.mu; see the package doc for the transitions.
type phase uint8

const (
	phaseOpening phase = iota // Adapter.Open runs; drafts are held
	phaseLive                 // session.started is out; sends are taken
	phaseEnding               // the end is decided; the agent is being closed; drafts are dropped
	phaseEnded                // session.ended is stored and the agent closed
	// phaseDetached: reloaded from the store after a restart, no agent
	// process; the next send or reply reopens it (→ opening → live), a
	// terminate ends it (→ ended).
	phaseDetached
)

// Bounds of lifecycle waits; variables so tests can shorten them.
var (
	// sendWait is how long Interrupt waits for a send in flight (the agent
	// may be starting) before it asks the adapter to interrupt anyway.
	sendWait = 2 * time.Second
	// readerDrain is how long Delete lets attached readers read up to the
	// session's session.ended before the log is wiped.
	readerDrain = 3 * time.Second
)

// Turn identifies the turn a message started: the n-th turn.started of the
// session (for a message queued behind a running turn, a later one).
type Turn struct{ n uint64 }

// Send starts a turn with the prompt.
func (s *Session) Send(ctx context.Context, p agent.Prompt) error {
	_, err := s.SendTurn(ctx, p)
	return err
}

// SendTurn is Send, also telling which turn the message starts, for
// StreamFrom.
//
// Transitions: the send takes a turn (turn.started, or a place in the
// queue behind the running turn) before the adapter sees the message. If
// the adapter refuses it, an error event is recorded and the send gives
// back what it took: its queue place, or its own turn (turn.ended), never
// another message's turn. An Interrupt that arrives while the adapter
// still takes the message is carried out right after it took it.
func (s *Session) SendTurn(ctx context.Context, p agent.Prompt) (Turn, error) {
	if err := s.resume(ctx); err != nil {
		return Turn{}, err
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	if s.phase != phaseLive {
		err := s.endedErrLocked()
		s.mu.Unlock()
		return Turn{}, err
	}
	native := s.info.NativeTurns
	var t Turn
	switch {
	case native:
		t.n = s.turns + 1 // the next turn the agent starts
	case s.pipe.turn:
		s.pipe.queued++ // its turn.started follows the running turn's end
		t.n = s.turns + uint64(s.pipe.queued)
	default:
		s.daemonLocked(schema.EventTurnStarted, &schema.TurnEventData{Phase: schema.PhaseStarted})
		t.n = s.turns
	}
	s.sending = true
	done := make(chan struct{})
	s.sendDone = done
	conn := s.conn
	s.mu.Unlock()

	err := conn.Send(ctx, p)

	s.mu.Lock()
	s.sending = false
	interrupt := s.interruptReq
	s.interruptReq = false
	if err != nil && s.phase == phaseLive {
		s.daemonLocked(schema.EventError, &schema.ErrorData{Message: err.Error(), Code: schema.Ptr("send_failed")})
		switch {
		case native:
		case s.turns < t.n: // still queued: give the place back
			s.pipe.queued--
		case s.turns == t.n && s.pipe.turn: // it is the running turn
			s.appendLocked(s.endTurnLocked())
		}
	}
	upTo := s.pipe.nextSeq - 1
	s.mu.Unlock()
	if err == nil && interrupt {
		_ = s.interruptNow(ctx)
	}
	close(done)
	s.awaitPublished(ctx, upTo)
	if err != nil {
		return t, wrapAgentErr(err, s.info.ID, s.id)
	}
	return t, nil
}

// endTurnLocked closes the running turn on the agent's behalf: requests it
// left open are withdrawn, and a message queued behind it gets its
// turn.started.
func (s *Session) endTurnLocked() []schema.Event {
	if !s.pipe.turn {
		return nil
	}
	evs := s.withdrawPendingLocked(false)
	return append(evs, s.pipe.run(agent.Draft{Type: schema.EventTurnEnded, Synthetic: true,
		Data: &schema.TurnEventData{Phase: schema.PhaseEnded}})...)
}

// Interrupt stops the running turn and keeps the session. When a send is
// still in flight (the agent may be starting), the interrupt is recorded
// and carried out by that send once the agent has the message; Interrupt
// waits for that up to sendWait, then asks the adapter anyway (an adapter
// stuck writing to a hung agent kills it), so it never blocks on an agent.
func (s *Session) Interrupt(ctx context.Context) error {
	s.mu.Lock()
	if s.phase == phaseDetached {
		s.mu.Unlock()
		return nil // no agent runs anything
	}
	if s.phase != phaseLive {
		err := s.endedErrLocked()
		s.mu.Unlock()
		return err
	}
	if s.sending {
		s.interruptReq = true
		done, conn := s.sendDone, s.conn
		s.mu.Unlock()
		timer := time.NewTimer(sendWait)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			if err := conn.Interrupt(ctx); err != nil {
				return wrapAgentErr(err, s.info.ID, s.id)
			}
		case <-ctx.Done():
		}
		return nil
	}
	s.mu.Unlock()
	return s.interruptNow(ctx)
}

// interruptNow interrupts the running turn and, if the agent did not close
// it, closes it. Only that turn: one that started while the agent was
// being interrupted is not touched. No turn running: nothing to do.
func (s *Session) interruptNow(ctx context.Context) error {
	s.mu.Lock()
	if s.phase != phaseLive || !s.pipe.turn {
		s.mu.Unlock()
		return nil
	}
	conn := s.conn
	turn, before := s.turns, s.pipe.turnsEnded
	s.mu.Unlock()
	if err := conn.Interrupt(ctx); err != nil {
		return wrapAgentErr(err, s.info.ID, s.id)
	}
	s.mu.Lock()
	if s.phase == phaseLive && s.pipe.turn && s.turns == turn && s.pipe.turnsEnded == before {
		s.appendLocked(s.endTurnLocked()) // the agent did not close the turn itself
		if !s.pipe.turn {
			s.closedTurn = true
		}
	}
	s.mu.Unlock()
	return nil
}

// Terminate ends the session: the running turn stops, the agent's processes
// are killed, and pending requests, the turn and the session end (session
// ended, terminated by the daemon). It returns once the session has ended,
// also when another Terminate (or the agent) ended it: nothing is appended
// to its log after that.
func (s *Session) Terminate(ctx context.Context) error {
	// A resume in progress finishes first (bounded by the agent's start).
	s.resumeMu.Lock()
	s.resumeMu.Unlock()
	s.mu.Lock()
	if s.phase != phaseLive && s.phase != phaseDetached { // a detached session ends like a live one, with no agent to close
		ended := s.endedCh
		s.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	// Ending first, so that whatever the agent emits while dying is
	// dropped instead of landing after session.ended.
	s.phase = phaseEnding
	s.markEndedLocked(schema.EndTerminated)
	s.mu.Unlock()
	s.closeConn(ctx)
	s.mu.Lock()
	evs := append(s.withdrawPendingLocked(true), s.pipe.turnEnd()...)
	s.appendLocked(evs)
	s.daemonLocked(schema.EventSessionEnded, &schema.SessionEndedData{Reason: schema.EndTerminated, TerminatedBy: schema.ByDaemon})
	s.endLocked()
	end := s.pipe.nextSeq - 1
	s.mu.Unlock()
	s.awaitPublished(ctx, end)
	return nil
}

// awaitPublished waits until readers can see the event of sequence seq:
// at once with a synchronous store, after the store acknowledged it with
// an asynchronous one (store.Acker), so an operation that returns has its
// events readable, as with the memory store.
func (s *Session) awaitPublished(ctx context.Context, seq uint64) {
	for {
		s.mu.Lock()
		if !s.async || s.last >= seq {
			s.mu.Unlock()
			return
		}
		ch := s.changedLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// finishAgentEnd closes the agent of a session its agent ended (its
// session.ended is stored) and completes the end.
func (s *Session) finishAgentEnd() {
	s.closeConn(context.Background())
	s.mu.Lock()
	s.endLocked()
	s.mu.Unlock()
}

// endLocked enters phaseEnded.
func (s *Session) endLocked() {
	if s.phase == phaseEnded {
		return
	}
	s.phase = phaseEnded
	close(s.endedCh)
	s.stopLife()
}

// closeConn closes the agent connection once; concurrent callers wait.
func (s *Session) closeConn(ctx context.Context) {
	s.mu.Lock()
	if s.closing {
		ch := s.closedCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return
	}
	s.closing = true
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		if err := conn.Close(ctx); err != nil {
			s.log.Warn("closing agent connection", "err", err)
		}
	}
	close(s.closedCh)
}

// delete ends the session, lets attached readers read to its
// session.ended, wipes its log and calls forget. Concurrent deletes wait
// for the first; they all succeed.
func (s *Session) delete(ctx context.Context, forget func()) error {
	s.mu.Lock()
	if s.deleting {
		done := s.deletedCh
		s.mu.Unlock()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.deleting = true
	s.mu.Unlock()
	// A delete that started completes, whatever its caller does.
	ctx = context.WithoutCancel(ctx)
	_ = s.Terminate(ctx)
	close(s.gone)
	s.drainReaders(readerDrain)
	s.storeMu.Lock()
	s.wiped = true
	err := s.store.DeleteSession(ctx, s.id)
	s.storeMu.Unlock()
	s.unwatch()
	forget()
	close(s.deletedCh)
	return err
}

// Attach registers a reader of the log; the returned function detaches it.
// A session being deleted keeps its log until attached readers detached
// (bounded by readerDrain), so a reader sees its session.ended.
func (s *Session) Attach() (detach func()) {
	s.mu.Lock()
	s.readers++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.readers--
		close(s.readersCh)
		s.readersCh = make(chan struct{})
		s.mu.Unlock()
	}
}

func (s *Session) drainReaders(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		s.mu.Lock()
		n, ch := s.readers, s.readersCh
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			s.log.Warn("deleting a session whose readers did not reach its end", "readers", n)
			return
		}
	}
}

// StreamFrom returns the cursor a stream of turn t starts after: just
// before its turn.started. It waits until the turn started; if the session
// ends first, the cursor is just before its session.ended.
func (s *Session) StreamFrom(ctx context.Context, t Turn) uint64 {
	for {
		s.mu.Lock()
		if t.n > 0 && s.turns >= t.n {
			seq := s.turnSeq[t.n-1]
			s.mu.Unlock()
			return seq - 1
		}
		if s.phase == phaseEnded {
			last := s.last
			s.mu.Unlock()
			return last - 1
		}
		ch := s.changedLocked()
		ended := s.endedCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ended:
		case <-ctx.Done():
			return s.LastSequence()
		}
	}
}

// watchLocked starts the idle-turn watchdog if it is configured and not
// running. It runs while turns run and fires when a turn has had no event
// for idleTimeout: an error event (code turn_idle_timeout), then the agent
// is interrupted and the turn ended.
func (s *Session) watchLocked() {
	if s.idleTimeout <= 0 || s.watching || s.phase != phaseLive {
		return
	}
	s.watching = true
	go s.watch()
}

func (s *Session) watch() {
	timer := time.NewTimer(s.idleTimeout)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-s.life.Done():
			s.mu.Lock()
			s.watching = false
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		if s.phase != phaseLive || !s.pipe.turn {
			s.watching = false
			s.mu.Unlock()
			return
		}
		if idle := time.Since(s.lastActivity); idle < s.idleTimeout {
			timer.Reset(s.idleTimeout - idle)
			s.mu.Unlock()
			continue
		}
		s.daemonLocked(schema.EventError, &schema.ErrorData{
			Message: fmt.Sprintf("the agent sent nothing for %s during a turn; the turn is interrupted", s.idleTimeout),
			Code:    schema.Ptr("turn_idle_timeout")})
		s.watching = false
		s.mu.Unlock()
		if err := s.Interrupt(s.life); err != nil {
			s.log.Warn("interrupting an idle turn", "err", err)
		}
		return
	}
}
