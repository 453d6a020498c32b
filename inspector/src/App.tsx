// The inspector: connects (to its own origin when served by the binary),
// then shows the sidebar (agents, sessions) and the open session or a tab.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AgentInfo, SandboxAgent, SessionInfo } from "sandbox-agent";
import { ConnectScreen } from "./ConnectScreen";
import { clientFor, type ConnectFailure, type Endpoint, forget, initialEndpoint, probe, remember } from "./connection";
import { RequestLog } from "./requestLog";
import { SessionView } from "./SessionView";
import { Sidebar } from "./Sidebar";
import { SessionCache } from "./store";

const RequestsTab = lazy(() => import("./RequestsTab"));
const AgentsTab = lazy(() => import("./AgentsTab"));
const CreateSession = lazy(() => import("./CreateSession"));

export type View = { tab: "session"; id: string } | { tab: "requests" } | { tab: "agents" } | { tab: "home" };

export function App() {
  const log = useMemo(() => new RequestLog(), []);
  const [{ endpoint: first, fromLink }] = useState(initialEndpoint);
  const [endpoint, setEndpoint] = useState<Endpoint>(first);
  const [client, setClient] = useState<SandboxAgent>();
  const [failure, setFailure] = useState<ConnectFailure>();
  const [connecting, setConnecting] = useState(true);

  const connect = useCallback(
    async (e: Endpoint) => {
      setConnecting(true);
      setEndpoint(e);
      const c = await clientFor(e, log);
      const f = await probe(c, e);
      setConnecting(false);
      setFailure(f);
      if (f) return;
      remember(e);
      setClient(c);
    },
    [log],
  );

  useEffect(() => {
    void connect(first);
    if (fromLink) {
      // The token should not stay in the address bar (or its history).
      const url = new URL(window.location.href);
      url.searchParams.delete("url");
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url);
    }
  }, [connect, first, fromLink]);

  if (!client) {
    return <ConnectScreen endpoint={endpoint} failure={failure} busy={connecting} onConnect={connect} />;
  }
  return (
    <Workspace
      client={client}
      endpoint={endpoint}
      log={log}
      onDisconnect={() => {
        forget();
        setClient(undefined);
        setFailure(undefined);
        setConnecting(false);
      }}
    />
  );
}

function Workspace({ client, endpoint, log, onDisconnect }: { client: SandboxAgent; endpoint: Endpoint; log: RequestLog; onDisconnect(): void }) {
  const cache = useMemo(() => new SessionCache(), []);
  const [view, setViewState] = useState<View>(viewFromPath);
  // The view lives in the address (/ui/sessions/<id>, /ui/requests ...), so
  // a session can be linked to and the back button works.
  const setView = useCallback((v: View) => {
    setViewState(v);
    const path = pathOf(v);
    if (window.location.pathname !== path) window.history.pushState(null, "", path + window.location.search);
  }, []);
  useEffect(() => {
    const onPop = () => setViewState(viewFromPath());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const [agents, setAgents] = useState<AgentInfo[]>([]);
  const [sessions, setSessions] = useState<SessionInfo[]>();
  const [creating, setCreating] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [error, setError] = useState<string>();
  const [, setTick] = useState(0);
  const openId = view.tab === "session" ? view.id : undefined;
  const openRef = useRef(openId);
  openRef.current = openId;

  const refreshAgents = useCallback(async () => {
    try {
      setAgents((await client.listAgents()).agents);
    } catch (e) {
      setError(String(e));
    }
  }, [client]);

  const refreshSessions = useCallback(async () => {
    try {
      const list = (await client.listSessions()).sessions;
      setSessions(list);
      // Badge the sessions that wait for a reply: read what each live one
      // that is not open added since last time.
      await Promise.all(
        list
          // An ended session waits for nothing: its log is not read.
          // A long log never read is left for when it is opened.
          .filter((s) => {
            const seen = cache.peek(s.sessionId)?.lastSequence ?? 0;
            return !s.ended && s.sessionId !== openRef.current && s.eventCount > seen && (seen > 0 || s.eventCount <= 5000);
          })
          .map((s) => cache.poll(client, s.sessionId, s.eventCount).catch(() => undefined)),
      );
      setTick((t) => t + 1);
    } catch (e) {
      setError(String(e));
    }
  }, [client, cache]);

  useEffect(() => {
    void refreshAgents();
    void refreshSessions();
    const t = window.setInterval(() => void refreshSessions(), 2000);
    return () => window.clearInterval(t);
  }, [refreshAgents, refreshSessions]);

  // Keyboard shortcuts that work anywhere: Alt+N new session, Alt+1..4 tabs.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "n" || e.key === "N") {
        e.preventDefault();
        setCreating(true);
      } else if (e.key === "r" || e.key === "R") {
        e.preventDefault();
        setView({ tab: "requests" });
      } else if (e.key === "a" || e.key === "A") {
        e.preventDefault();
        setView({ tab: "agents" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [setView]);

  const open = (v: View) => {
    setView(v);
    setMenuOpen(false);
  };
  const current = openId ? sessions?.find((s) => s.sessionId === openId) : undefined;

  return (
    <div className={`app${menuOpen ? " menu-open" : ""}`}>
      <header className="topbar">
        <button type="button" className="menu-button" aria-label="menu" onClick={() => setMenuOpen((o) => !o)}>☰</button>
        <span className="brand">sandbox-agent inspector</span>
        <nav className="tabs" aria-label="views">
          <button type="button" className={view.tab === "agents" ? "active" : ""} onClick={() => open({ tab: "agents" })}>Agents</button>
          <button type="button" className={view.tab === "requests" ? "active" : ""} onClick={() => open({ tab: "requests" })}>Requests</button>
        </nav>
        <span className="endpoint" title={endpoint.baseUrl}>{endpoint.baseUrl}</span>
        <button type="button" className="link" onClick={onDisconnect}>Disconnect</button>
      </header>
      <Sidebar
        agents={agents}
        sessions={sessions ?? []}
        cache={cache}
        openId={openId}
        client={client}
        onOpen={(id) => open({ tab: "session", id })}
        onNew={() => setCreating(true)}
        onAgentsChanged={refreshAgents}
      />
      <main className="main">
        {error ? (
          <div className="banner error" role="alert">
            {error} <button type="button" className="link" onClick={() => setError(undefined)}>dismiss</button>
          </div>
        ) : null}
        <Suspense fallback={<div className="muted pad">Loading…</div>}>
          {view.tab === "session" && !current ? (
            <div className="pad muted">{sessions ? `There is no session ${view.id} on this server.` : "Loading…"}</div>
          ) : view.tab === "session" ? (
            <SessionView
              key={view.id}
              client={client}
              id={view.id}
              info={current}
              cache={cache}
              onChanged={refreshSessions}
              onDeleted={() => {
                cache.drop(view.id);
                setView({ tab: "home" });
                void refreshSessions();
              }}
            />
          ) : view.tab === "requests" ? (
            <RequestsTab log={log} />
          ) : view.tab === "agents" ? (
            <AgentsTab client={client} agents={agents} onChanged={refreshAgents} />
          ) : (
            <Home onNew={() => setCreating(true)} count={sessions?.length ?? 0} />
          )}
        </Suspense>
      </main>
      {creating ? (
        <Suspense fallback={null}>
          <CreateSession
            client={client}
            agents={agents}
            onClose={() => setCreating(false)}
            onCreated={(id) => {
              setCreating(false);
              void refreshSessions().then(() => open({ tab: "session", id }));
            }}
          />
        </Suspense>
      ) : null}
    </div>
  );
}

const base = import.meta.env.BASE_URL; // "/ui/"

function pathOf(v: View): string {
  switch (v.tab) {
    case "session":
      return `${base}sessions/${encodeURIComponent(v.id)}`;
    case "home":
      return base;
    default:
      return `${base}${v.tab}`;
  }
}

function viewFromPath(): View {
  const rest = window.location.pathname.startsWith(base) ? window.location.pathname.slice(base.length) : "";
  const [first, second] = rest.split("/");
  if (first === "sessions" && second) return { tab: "session", id: decodeURIComponent(second) };
  if (first === "requests" || first === "agents") return { tab: first };
  return { tab: "home" };
}

function Home({ onNew, count }: { onNew(): void; count: number }) {
  return (
    <div className="home pad">
      <h2>Inspect a running agent</h2>
      <p>
        {count === 0 ? "No sessions yet." : `${count} session${count === 1 ? "" : "s"} in the sidebar.`} Create one with any installed agent (the
        <code>mock</code> agent needs no API key; send it <code>demo</code> to see every kind of item), then watch its transcript and raw events live.
      </p>
      <button type="button" onClick={onNew}>New session</button>
      <h3>Keyboard</h3>
      <ul className="keys">
        <li><kbd>Alt</kbd>+<kbd>N</kbd> new session</li>
        <li><kbd>Enter</kbd> send, <kbd>Shift</kbd>+<kbd>Enter</kbd> new line</li>
        <li><kbd>Esc</kbd> interrupt the running turn</li>
        <li><kbd>Alt</kbd>+<kbd>T</kbd> / <kbd>Alt</kbd>+<kbd>E</kbd> transcript / events</li>
        <li><kbd>Alt</kbd>+<kbd>A</kbd> agents, <kbd>Alt</kbd>+<kbd>R</kbd> request log</li>
      </ul>
    </div>
  );
}
