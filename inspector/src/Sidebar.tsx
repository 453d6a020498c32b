// The sidebar: agents (install state, install button) and sessions (agent,
// status, last activity, a badge when a session waits for a reply).
import { useEffect, useState } from "react";
import type { AgentInfo, SandboxAgent, SessionInfo } from "sandbox-agent";
import { type SessionCache, type SessionData, useSessionVersion } from "./store";

export function Sidebar(props: {
  agents: AgentInfo[];
  sessions: SessionInfo[];
  cache: SessionCache;
  openId?: string;
  client: SandboxAgent;
  onOpen(id: string): void;
  onNew(): void;
  onAgentsChanged(): Promise<void>;
}) {
  const { agents, sessions, cache, openId, onOpen, onNew } = props;
  const now = useNow(10_000);
  return (
    <aside className="sidebar" aria-label="sidebar">
      <section>
        <h2>Agents</h2>
        <ul className="agents">
          {agents.map((a) => (
            <AgentRow key={a.id} agent={a} client={props.client} onChanged={props.onAgentsChanged} />
          ))}
        </ul>
      </section>
      <section className="sessions-section">
        <h2>
          Sessions <button type="button" className="small" onClick={onNew} title="Alt+N">+ New</button>
        </h2>
        {sessions.length === 0 ? <p className="muted">None yet.</p> : null}
        <ul className="sessions">
          {sessions.map((s) => (
            <SessionRow key={s.sessionId} info={s} data={cache.peek(s.sessionId)} active={s.sessionId === openId} now={now} onOpen={onOpen} />
          ))}
        </ul>
      </section>
    </aside>
  );
}

// SessionRow follows its session's cached events, so its badge and state
// change the moment an event arrives, not at the next list poll.
function SessionRow({ info: s, data, active, now, onOpen }: { info: SessionInfo; data?: SessionData; active: boolean; now: number; onOpen(id: string): void }) {
  useSessionVersion(data);
  const pending = data?.transcript.pending ?? 0;
  const running = data?.transcript.running ?? false;
  // detached: reloaded after a server restart; the next message resumes it.
  const status = s.ended || data?.transcript.ended ? "ended" : running ? "running" : s.detached ? "detached" : "idle";
  return (
    <li>
      <button type="button" className={`session-row${active ? " active" : ""}`} onClick={() => onOpen(s.sessionId)} data-session={s.sessionId}>
        <span className="session-title">{s.title || s.sessionId}</span>
        {pending > 0 ? <span className="badge badge-hitl" data-testid="pending-badge" title="waiting for a reply">{pending}</span> : null}
        <span className="session-meta">
          <span className={`dot dot-${status}`} /> {s.agent} · {status} · {ago(now - s.updatedAt)}
        </span>
      </button>
    </li>
  );
}

function AgentRow({ agent, client, onChanged }: { agent: AgentInfo; client: SandboxAgent; onChanged(): Promise<void> }) {
  const [installing, setInstalling] = useState<number>();
  const [err, setErr] = useState<string>();
  const now = useNow(installing ? 500 : 60_000);
  const install = async () => {
    setInstalling(Date.now());
    setErr(undefined);
    try {
      await client.installAgent(agent.id, agent.installed ? { reinstall: true } : {});
      await onChanged();
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    } finally {
      setInstalling(undefined);
    }
  };
  return (
    <li className="agent-row" data-agent={agent.id}>
      <span className={`dot dot-${agent.installed ? "ok" : "off"}`} />
      <span className="agent-id">{agent.id}</span>
      <span className="muted">{agent.installed ? agent.version ?? "installed" : "not installed"}</span>
      {installing ? (
        <span className="installing" role="progressbar" aria-label={`installing ${agent.id}`}>
          <span className="spinner" /> {Math.round((now - installing) / 1000)} s
        </span>
      ) : !agent.installed ? (
        <button type="button" className="small" onClick={install}>Install</button>
      ) : null}
      {err ? <span className="error-text" title={err}>failed</span> : null}
    </li>
  );
}

function useNow(every: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), every);
    return () => window.clearInterval(t);
  }, [every]);
  return now;
}

export function ago(ms: number): string {
  if (ms < 5_000) return "just now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}
