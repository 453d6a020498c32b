// Package session owns sessions: creating them through an agent adapter,
// the event pipeline and log, human-in-the-loop state, and fan-out to
// readers.
//
// # Lifecycle
//
// A session is one state machine; every transition is taken under the
// session's lock (s.mu), and the events it records follow from it:
//
//	opening ──Open ok──▶ live ──Terminate──────────▶ ending ──agent closed──▶ ended
//	                      │  └──agent's session.ended──▶ ending (session.ended already out)
//	                      └── Send / Interrupt / Reply / process exit / restart: stay live
//
// The phases:
//
//   - opening: Adapter.Open runs; drafts are held until the daemon's
//     session.started is out. The session is not listed and its id is
//     reserved against a concurrent Create.
//   - live: sends are taken one at a time through the adapter (a send
//     being accepted is "in flight"). A send takes a turn before the agent
//     sees it: turn.started, or a place in the queue behind the running
//     turn (its turn.started follows that turn's turn.ended). A send the
//     adapter refuses records an error and gives back exactly what it
//     took. An Interrupt during a send in flight is carried out by that
//     send as soon as the agent has the message. An interrupt that the
//     agent does not answer with turn.ended is closed by the session (only
//     the turn that was running when the interrupt came); what the agent
//     still says of that turn (items, requests) is dropped until the next
//     turn starts.
//     The optional idle-turn watchdog (Config.TurnIdleTimeout) records an
//     error (turn_idle_timeout) and interrupts a turn that went silent.
//   - ending: the end is decided; drafts are dropped. Terminate closes the
//     agent (no process survives Conn.Close), then records rejected
//     resolutions of open requests, turn.ended of a running turn, and
//     session.ended. An agent that ends the session itself has those
//     recorded with its session.ended; the agent is closed afterwards.
//   - ended: nothing is recorded any more. Terminate of an ending or ended
//     session waits for the end and returns nil.
//
// Delete is Terminate, then "gone": readers that Attach()ed read on to the
// session.ended (bounded by a grace period), then the log is wiped and the
// id released. Until then the id stays taken, so a re-created session never
// shares a store key, log or reader with the deleted one; concurrent
// deletes wait for the first and succeed.
//
// # Invariants
//
// These hold for every log, under every interleaving of the operations
// above; internal/testkit/invariants checks them, in unit tests, the
// property-based state-machine test (rapid), the fault suite and at the end
// of every e2e scenario:
//
//   - sequences are contiguous from 1, and the first event is the one
//     session.started;
//   - turns alternate turn.started / turn.ended; when the session is idle
//     or ended every turn.started has its turn.ended;
//   - every event is inside a turn or is session-level (session.started,
//     session.ended, error, agent.unparsed, and system status items: notices
//     about the session itself, such as an agent's thread coming up);
//   - every permission.requested and question.requested gets exactly one
//     resolved event, after it; none is open when the session is idle or
//     ended;
//   - at most one session.ended, and nothing after it;
//   - no agent process outlives its session (Conn.Close contract);
//   - every stream of a deleted session that was attached when it was
//     deleted ends with its session.ended.
package session
