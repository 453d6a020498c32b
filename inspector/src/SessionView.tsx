// One session: its header (status, interrupt, terminate, delete), the
// transcript or raw events, and the composer.
import { lazy, useEffect, useMemo, useRef, useState } from "react";
import type { MessageAttachment, SandboxAgent, SessionInfo } from "sandbox-agent";
import { type SessionCache, follow, useSessionVersion } from "./store";
import { Transcript, type TranscriptActions } from "./transcript/Transcript";

const EventsTab = lazy(() => import("./EventsTab"));

export function SessionView(props: { client: SandboxAgent; id: string; info?: SessionInfo; cache: SessionCache; onChanged(): void; onDeleted(): void }) {
  const { client, id, info, cache } = props;
  const [tab, setTab] = useState<"transcript" | "events">("transcript");
  const [includeRaw, setIncludeRaw] = useState(false);
  const [error, setError] = useState<string>();
  const data = useMemo(() => cache.get(id, includeRaw), [cache, id, includeRaw]);
  const version = useSessionVersion(data);
  const t = data.transcript;
  const stop = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const ac = new AbortController();
    stop.current = ac;
    void follow(client, data, ac.signal, (e) => setError(`event stream: ${String(e)}`));
    return () => ac.abort();
  }, [client, data]);

  const run = (what: string, p: Promise<unknown>) =>
    p.then(
      () => props.onChanged(),
      (e: unknown) => setError(`${what}: ${e instanceof Error ? e.message : String(e)}`),
    );

  const actions = useMemo<TranscriptActions>(
    () => ({
      replyPermission: (pid, reply) => client.replyPermission(id, pid, { reply }),
      replyQuestion: (qid, answers) => client.replyQuestion(id, qid, { answers }),
      rejectQuestion: (qid) => client.rejectQuestion(id, qid),
      imageUrl: async (path) => {
        const bytes = await client.readFsFile({ path, sessionId: id });
        return URL.createObjectURL(new Blob([bytes as BlobPart]));
      },
    }),
    [client, id],
  );

  const ended = t.ended || info?.ended === true;
  // The tab's title says when the agent waits for a reply.
  useEffect(() => {
    document.title = `${t.pending > 0 ? `(${t.pending}) ` : ""}${info?.title || id} · sandbox-agent inspector`;
    return () => {
      document.title = "sandbox-agent inspector";
    };
  }, [t.pending, version, info?.title, id]);
  const running = t.running && !ended;
  const interrupt = () => run("interrupt", client.interruptSession(id));

  // Esc interrupts, Alt+T / Alt+E switch tabs.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && running) {
        e.preventDefault();
        interrupt();
      } else if (e.altKey && (e.key === "t" || e.key === "T")) {
        e.preventDefault();
        setTab("transcript");
      } else if (e.altKey && (e.key === "e" || e.key === "E")) {
        e.preventDefault();
        setTab("events");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  return (
    <section className="session" data-session-id={id} data-version={version}>
      <div className="session-head">
        <div className="session-name">
          <h2>{info?.title || id}</h2>
          <span className="muted">
            {info?.agent ?? "?"}
            {info?.agentMode ? ` · ${info.agentMode}` : ""}
            {info?.permissionMode ? ` · ${info.permissionMode}` : ""}
            {info?.model ? ` · ${info.model}` : ""}
            {info?.variant ? ` · ${info.variant}` : ""}
          </span>
          {info?.directory || info?.nativeSessionId ? (
            <span className="muted session-where" title={info?.nativeSessionId ?? undefined}>
              {info?.directory ? <code>{info.directory}</code> : null}
              {info?.directory && info?.nativeSessionId ? " · " : ""}
              {info?.nativeSessionId ? `native ${info.nativeSessionId}` : ""}
            </span>
          ) : null}
        </div>
        <div className="session-state" data-testid="session-state">
          {ended ? <span className="badge">ended</span> : running ? <span className="badge badge-live running-indicator" data-testid="running"><span className="spinner" /> running</span> : <span className="badge badge-ok">idle</span>}
          {t.pending > 0 ? <span className="badge badge-hitl">{t.pending} waiting for you</span> : null}
        </div>
        <div className="session-actions">
          {running ? <button type="button" onClick={interrupt} title="Esc">Interrupt</button> : null}
          {!ended ? <button type="button" onClick={() => run("terminate", client.terminateSession(id))}>Terminate</button> : null}
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (!window.confirm(`Delete session ${id} and its events?`)) return;
              // Stop following first: the stream would otherwise see the session vanish.
              stop.current?.abort();
              client.deleteSession(id).then(props.onDeleted, (e: unknown) => setError(`delete: ${String(e)}`));
            }}
          >
            Delete
          </button>
        </div>
      </div>
      <div className="subtabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "transcript"} className={tab === "transcript" ? "active" : ""} onClick={() => setTab("transcript")}>Transcript</button>
        <button type="button" role="tab" aria-selected={tab === "events"} className={tab === "events" ? "active" : ""} onClick={() => setTab("events")}>Events <span className="muted">{data.events.length}</span></button>
      </div>
      {error ? (
        <div className="banner error" role="alert">
          {error} <button type="button" className="link" onClick={() => setError(undefined)}>dismiss</button>
        </div>
      ) : null}
      <div className="session-body">
        {tab === "transcript" ? (
          <AutoScroll version={version}>
            <Transcript model={t} version={version} actions={ended ? undefined : actions} />
          </AutoScroll>
        ) : (
          <EventsTab events={data.events} version={version} includeRaw={includeRaw} onIncludeRaw={setIncludeRaw} />
        )}
      </div>
      {!ended ? <Composer client={client} id={id} onError={setError} /> : null}
    </section>
  );
}

// AutoScroll keeps the view pinned to the bottom while it is there.
function AutoScroll({ version, children }: { version: number; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [version]);
  return (
    <div
      className="scroll"
      ref={ref}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {children}
    </div>
  );
}

function Composer({ client, id, onError }: { client: SandboxAgent; id: string; onError(msg: string): void }) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), [id]);

  const send = async () => {
    if (!text.trim() && files.length === 0) return;
    setSending(true);
    try {
      // Attachments are files on the server: upload each into the
      // session's directory first, then name it in the message.
      const attachments: MessageAttachment[] = [];
      for (const f of files) {
        const path = `.sandbox-agent/attachments/${Date.now()}-${f.name.replace(/[^\w.-]/g, "_")}`;
        const res = await client.writeFsFile({ path, sessionId: id }, f);
        attachments.push({ path: res.path, mime: f.type || undefined, filename: f.name });
      }
      await client.postMessage(id, { message: text, ...(attachments.length ? { attachments } : {}) });
      setText("");
      setFiles([]);
    } catch (e) {
      onError(`send: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {files.length > 0 ? (
        <ul className="attachments" aria-label="attachments">
          {files.map((f, i) => (
            <li key={i}>
              {f.name} <span className="muted">{Math.ceil(f.size / 1024)} KB</span>
              <button type="button" className="link" aria-label={`remove ${f.name}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>×</button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="composer-row">
        <label className="attach" title="Attach images or files">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M16.5 6.5 8.4 14.6a2 2 0 0 0 2.8 2.8l8.1-8.1a4 4 0 0 0-5.7-5.7L5.5 11.7a6 6 0 0 0 8.5 8.5l6.5-6.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round"/></svg>
          <input type="file" multiple aria-label="attach files" onChange={(e) => setFiles([...files, ...Array.from(e.target.files ?? [])])} />
        </label>
        <textarea
          ref={input}
          aria-label="message"
          placeholder="Message the agent (Enter to send, Shift+Enter for a new line)"
          value={text}
          rows={2}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" disabled={sending}>Send</button>
      </div>
    </form>
  );
}
