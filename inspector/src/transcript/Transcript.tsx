// The transcript renderer: every entry of a Transcript, items with their
// nested children, human-in-the-loop requests with their controls.
import { createContext, memo, useContext, useState, type ReactNode } from "react";
import type { ContentPart, PermissionReply, UniversalItem } from "sandbox-agent";
import { Code, Diff } from "./Code";
import { Markdown } from "./Markdown";
import type { Entry, ItemView, PermissionView, QuestionView, Transcript as Model } from "./model";

/** What the transcript can ask of its session. */
export interface TranscriptActions {
  replyPermission(id: string, reply: PermissionReply): Promise<void>;
  replyQuestion(id: string, answers: string[][]): Promise<void>;
  rejectQuestion(id: string): Promise<void>;
  /** Resolves an image part's path to a URL the page can show (the fs API). */
  imageUrl?(path: string): Promise<string>;
}

// The model, for parts that look across items (a result names its call).
const ModelContext = createContext<Model | undefined>(undefined);

export function Transcript({ model, actions }: { model: Model; version: number; actions?: TranscriptActions }) {
  if (model.entries.length === 0) {
    return <div className="transcript empty">No events yet. Send a message to start a turn.</div>;
  }
  return (
    <ModelContext.Provider value={model}>
      <div className="transcript" data-testid="transcript">
        {model.entries.map((e) => (
          <EntryRow key={entryKey(e)} entry={e} model={model} actions={actions} />
        ))}
      </div>
    </ModelContext.Provider>
  );
}

function entryKey(e: Entry): string {
  switch (e.kind) {
    case "item":
    case "permission":
    case "question":
      return `${e.kind}:${e.id}`;
    default:
      return `${e.kind}:${e.seq}`;
  }
}

function EntryRow({ entry: e, model, actions }: { entry: Entry; model: Model; actions?: TranscriptActions }) {
  switch (e.kind) {
    case "item": {
      const view = model.items.get(e.id);
      return view ? <ItemCard view={view} rev={view.rev} model={model} actions={actions} /> : null;
    }
    case "permission": {
      const view = model.permissions.get(e.id);
      return view ? <PermissionCard view={view} rev={view.rev} actions={actions} /> : null;
    }
    case "question": {
      const view = model.questions.get(e.id);
      return view ? <QuestionCard view={view} rev={view.rev} actions={actions} /> : null;
    }
    case "turn-started":
      return <div className="turn turn-start" data-kind="turn-started">Turn {e.turn} started{e.turnId ? <span className="muted"> · {e.turnId}</span> : null}</div>;
    case "turn-ended":
      return (
        <div className="turn turn-end" data-kind="turn-ended">
          Turn {e.turn} ended
          {e.status ? <span className="muted"> · {e.status}</span> : null}
          {e.durationMs !== undefined ? <span className="muted" data-testid="turn-duration"> · {formatDuration(e.durationMs)}</span> : null}
          {e.usage ? (
            <span className="muted" data-testid="turn-usage">
              {" "}· {e.usage.input ?? "?"} in / {e.usage.output ?? "?"} out tokens
            </span>
          ) : null}
        </div>
      );
    case "session-started":
      return <div className="turn session-line" data-kind="session-started">Session started</div>;
    case "session-ended":
      return (
        <div className="card session-ended" data-kind="session-ended">
          <div className="card-head">
            <span className="badge">session ended</span> {e.data.reason} by {e.data.terminated_by}
            {e.data.exit_code != null ? <span className="muted"> · exit code {e.data.exit_code}</span> : null}
          </div>
          {e.data.message ? <p>{e.data.message}</p> : null}
          {e.data.stderr?.tail || e.data.stderr?.head ? (
            <details>
              <summary>stderr</summary>
              <pre className="code">{[e.data.stderr.head, e.data.stderr.truncated ? "…" : null, e.data.stderr.tail].filter(Boolean).join("\n")}</pre>
            </details>
          ) : null}
        </div>
      );
    case "error":
      return (
        <div className="card error" data-kind="error" role="alert">
          <div className="card-head">
            <span className="badge badge-error">error</span>
            {e.data.code ? <code>{e.data.code}</code> : null}
          </div>
          <p>{e.data.message}</p>
          {e.data.details != null ? <JsonBlock value={e.data.details} /> : null}
        </div>
      );
    case "unparsed":
      return (
        <div className="card unparsed" data-kind="agent.unparsed">
          <div className="card-head">
            <span className="badge badge-warn">unparsed</span> agent output the server could not read
          </div>
          <JsonBlock value={e.event.data} />
        </div>
      );
    case "other":
      return (
        <div className="card" data-kind="other">
          <div className="card-head"><span className="badge">{e.event.type}</span></div>
          <JsonBlock value={e.event.data} />
        </div>
      );
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const ItemCard = memo(
  function ItemCard({ view, model, actions }: { view: ItemView; rev: number; model: Model; actions?: TranscriptActions }) {
    const { item } = view;
    const role = item.role ?? "none";
    const inProgress = !view.completed && item.status === "in_progress";
    const failed = item.status === "failed";
    const cls = `card item item-${item.kind} role-${role}${failed ? " failed" : ""}${inProgress ? " in-progress" : ""}`;
    return (
      <div className={cls} data-kind={item.kind} data-role={role} data-item-id={item.item_id} data-status={item.status}>
        <div className="card-head">
          <span className="badge">{label(item)}</span>
          {failed ? <span className="badge badge-error">failed</span> : null}
          {inProgress ? <span className="badge badge-live" aria-label="streaming">…</span> : null}
        </div>
        <Parts view={view} actions={actions} />
        {view.children.length > 0 ? (
          <div className="children" data-testid="children">
            {view.children.map((id) => {
              const child = model.items.get(id);
              return child ? <ItemCard key={id} view={child} rev={child.rev} model={model} actions={actions} /> : null;
            })}
          </div>
        ) : null}
      </div>
    );
  },
  (a, b) => a.view === b.view && a.rev === b.rev && a.actions === b.actions,
);

function label(item: UniversalItem): string {
  switch (item.kind) {
    case "message":
      return item.role ?? "message";
    case "tool_call":
      return "tool call";
    case "tool_result":
      return "tool result";
    default:
      return item.kind;
  }
}

function Parts({ view, actions }: { view: ItemView; actions?: TranscriptActions }) {
  const { item } = view;
  const parts = item.content ?? [];
  const streaming = !view.completed && view.streamed !== "";
  const out: ReactNode[] = [];
  let textShown = false;
  parts.forEach((p, i) => {
    if (p.type === "text" && streaming) {
      // While deltas stream in, they replace the started item's text.
      if (!textShown) out.push(<TextPart key={i} text={view.streamed} role={item.role} live />);
      textShown = true;
      return;
    }
    out.push(<Part key={i} part={p} item={item} actions={actions} />);
  });
  if (streaming && !textShown) {
    // Deltas of a tool item are its output as it runs (a command's stdout).
    const tool = item.kind === "tool_call" || item.kind === "tool_result";
    out.push(
      tool ? (
        <pre key="streamed" className="code output live" data-part="output">{view.streamed}</pre>
      ) : (
        <TextPart key="streamed" text={view.streamed} role={item.role} live />
      ),
    );
  }
  return <div className="parts">{out}</div>;
}

function TextPart({ text, role, live }: { text: string; role: UniversalItem["role"]; live?: boolean }) {
  return (
    <div className={`part part-text${live ? " live" : ""}`} data-part="text">
      {role === "user" ? <p className="plain">{text}</p> : <Markdown text={text} />}
    </div>
  );
}

function Part({ part, item, actions }: { part: ContentPart; item: UniversalItem; actions?: TranscriptActions }) {
  const p = part as ContentPart & Record<string, unknown>;
  switch (part.type) {
    case "text":
      return <TextPart text={String(p.text ?? "")} role={item.role} />;
    case "reasoning": {
      const priv = p.visibility === "private";
      return (
        <details className={`part part-reasoning${priv ? " private" : ""}`} data-part="reasoning" open={!priv}>
          <summary>Reasoning{priv ? " (private)" : ""}</summary>
          <p className="plain">{String(p.text ?? "")}</p>
        </details>
      );
    }
    case "json":
      return (
        <div className="part part-json" data-part="json">
          <JsonBlock value={p.json} />
        </div>
      );
    case "tool_call":
      return (
        <div className="part part-tool-call" data-part="tool_call">
          <div>
            <strong className="tool-name">{String(p.name)}</strong> <span className="muted">{String(p.call_id ?? "")}</span>
          </div>
          <JsonBlock value={parseMaybe(String(p.arguments ?? ""))} />
        </div>
      );
    case "tool_result":
      return <ToolResult callId={String(p.call_id ?? "")} output={String(p.output ?? "")} />;
    case "file_ref":
      return (
        <div className="part part-file" data-part="file_ref">
          <div>
            <span className={`badge badge-${String(p.action)}`}>{String(p.action)}</span> <code>{String(p.path)}</code>
          </div>
          {typeof p.diff === "string" && p.diff !== "" ? <Diff diff={p.diff} path={String(p.path)} /> : null}
        </div>
      );
    case "image":
      return <ImagePart path={String(p.path ?? "")} mime={(p.mime as string | null) ?? undefined} actions={actions} />;
    case "status":
      return (
        <div className="part part-status" data-part="status">
          <strong>{String(p.label ?? "")}</strong>
          {p.detail ? <span className="muted"> · {String(p.detail)}</span> : null}
        </div>
      );
    default:
      return (
        <div className="part part-unknown" data-part={part.type}>
          <span className="badge">{part.type}</span>
          <JsonBlock value={part} />
        </div>
      );
  }
}

function ToolResult({ callId, output }: { callId: string; output: string }) {
  const name = useContext(ModelContext)?.toolNames.get(callId);
  return (
    <div className="part part-tool-result" data-part="tool_result">
      <div className="muted">
        result of {name ? <strong className="tool-ref">{name}</strong> : null} <span>{callId}</span>
      </div>
      <Output text={output} />
    </div>
  );
}

// Output of a command or tool: long output is folded.
function Output({ text }: { text: string }) {
  const lines = text.split("\n");
  if (lines.length <= 24) return <pre className="code output">{text}</pre>;
  return (
    <details className="output-fold">
      <summary>{lines.length} lines</summary>
      <pre className="code output">{text}</pre>
    </details>
  );
}

function ImagePart({ path, mime, actions }: { path: string; mime?: string; actions?: TranscriptActions }) {
  const direct = /^(data:image\/|https?:)/i.test(path) ? path : undefined;
  const [src, setSrc] = useState<string | undefined>(direct);
  const [err, setErr] = useState<string>();
  const load = () => {
    if (!actions?.imageUrl) return;
    actions.imageUrl(path).then(setSrc, (e: unknown) => setErr(e instanceof Error ? e.message : String(e)));
  };
  return (
    <figure className="part part-image" data-part="image">
      {src ? <img src={src} alt={path} /> : <div className="image-placeholder">image</div>}
      <figcaption>
        <code title={path.startsWith("data:") ? undefined : path}>{captionOf(path)}</code>
        {mime ? <span className="muted"> · {mime}</span> : null}
        {!src && actions?.imageUrl ? (
          <button type="button" className="link" onClick={load}>load from the server</button>
        ) : null}
        {err ? <span className="error-text"> · {err}</span> : null}
      </figcaption>
    </figure>
  );
}

// captionOf shortens a data URL to its header and size.
export function captionOf(path: string): string {
  if (!path.startsWith("data:")) return path;
  const comma = path.indexOf(",");
  return `${path.slice(0, comma + 1)}… (${path.length - comma - 1} chars)`;
}

export function JsonBlock({ value }: { value: unknown }) {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value, null, 2) ?? "null";
    } catch {
      text = String(value);
    }
  }
  return <Code code={text} lang="json" />;
}

function parseMaybe(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

const PermissionCard = memo(
  function PermissionCard({ view, actions }: { view: PermissionView; rev: number; actions?: TranscriptActions }) {
    const [busy, setBusy] = useState(false);
    const [err, setErr] = useState<string>();
    const req = view.request;
    const status = view.resolved?.status;
    const reply = (r: PermissionReply) => {
      if (!actions) return;
      setBusy(true);
      setErr(undefined);
      actions.replyPermission(view.id, r).catch((e: unknown) => {
        setErr(e instanceof Error ? e.message : String(e));
        setBusy(false);
      });
    };
    return (
      <div className={`card hitl permission${status ? " resolved" : " pending"}`} data-kind="permission" data-id={view.id} data-status={status ?? "requested"}>
        <div className="card-head">
          <span className="badge badge-hitl">permission</span> <strong>{req.action}</strong>
          {status ? <span className={`badge badge-${status === "reject" ? "error" : "ok"}`}>{permissionLabel(status)}</span> : null}
        </div>
        {summary(req.metadata)}
        {req.metadata != null ? (
          <details>
            <summary>details</summary>
            <JsonBlock value={req.metadata} />
          </details>
        ) : null}
        {!status && actions ? (
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => reply("once")}>Allow once</button>
            <button type="button" disabled={busy} onClick={() => reply("always")}>Always allow</button>
            <button type="button" className="danger" disabled={busy} onClick={() => reply("reject")}>Reject</button>
          </div>
        ) : null}
        {err ? <p className="error-text">{err}</p> : null}
      </div>
    );
  },
  (a, b) => a.view === b.view && a.rev === b.rev && a.actions === b.actions,
);

function permissionLabel(status: string): string {
  switch (status) {
    case "accept":
      return "allowed once";
    case "accept_for_session":
      return "always allowed";
    case "reject":
      return "rejected";
    default:
      return status;
  }
}

// summary picks the line a person wants first from a permission's metadata.
function summary(meta: unknown): ReactNode {
  if (!meta || typeof meta !== "object") return null;
  const m = meta as Record<string, unknown>;
  const input = (m.input && typeof m.input === "object" ? m.input : {}) as Record<string, unknown>;
  const command = m.command ?? input.command;
  const path = m.path ?? m.blockedPath ?? input.file_path ?? input.path;
  const description = m.description ?? input.description;
  return (
    <div className="hitl-summary">
      {typeof description === "string" ? <p>{description}</p> : null}
      {typeof command === "string" ? <pre className="code">$ {command}</pre> : null}
      {typeof path === "string" && typeof command !== "string" ? <p><code>{path}</code></p> : null}
    </div>
  );
}

const QuestionCard = memo(
  function QuestionCard({ view, actions }: { view: QuestionView; rev: number; actions?: TranscriptActions }) {
    const req = view.request;
    const meta = (req.metadata ?? {}) as Record<string, unknown>;
    const multi = meta.multiSelect === true;
    const options = req.options ?? [];
    const descriptions = (meta.optionDescriptions && typeof meta.optionDescriptions === "object" ? meta.optionDescriptions : {}) as Record<string, string>;
    const plan = typeof meta.plan === "string" ? meta.plan : undefined;
    const [picked, setPicked] = useState<string[]>([]);
    const [other, setOther] = useState("");
    const [busy, setBusy] = useState(false);
    const [err, setErr] = useState<string>();
    const status = view.resolved?.status;
    const run = (p: Promise<void>) => {
      setBusy(true);
      setErr(undefined);
      p.catch((e: unknown) => {
        setErr(e instanceof Error ? e.message : String(e));
        setBusy(false);
      });
    };
    const toggle = (opt: string) =>
      setPicked((cur) => (multi ? (cur.includes(opt) ? cur.filter((o) => o !== opt) : [...cur, opt]) : [opt]));
    const answers = [...picked, ...(other.trim() ? [other.trim()] : [])];
    return (
      <div className={`card hitl question${status ? " resolved" : " pending"}${plan ? " plan" : ""}`} data-kind="question" data-id={view.id} data-status={status ?? "requested"}>
        <div className="card-head">
          <span className="badge badge-hitl">{plan ? "plan approval" : "question"}</span>
          {typeof meta.header === "string" ? <strong>{meta.header}</strong> : null}
          {multi ? <span className="muted">(choose any)</span> : null}
          {status ? <span className={`badge badge-${status === "rejected" ? "error" : "ok"}`}>{status}</span> : null}
        </div>
        {plan ? (
          <>
            <Markdown text={req.prompt.replace(plan, "").trim()} />
            <div className="plan-body"><Markdown text={plan} /></div>
          </>
        ) : (
          <Markdown text={req.prompt} />
        )}
        {status ? (
          view.resolved?.response ? <p className="answer">Answer: <strong>{view.resolved.response}</strong></p> : null
        ) : actions ? (
          <form
            className="question-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (answers.length > 0) run(actions.replyQuestion(view.id, [answers]));
            }}
          >
            <div className="options" role={multi ? "group" : "radiogroup"} hidden={!!plan}>
              {options.map((opt) => (
                <label key={opt} className="option">
                  <input
                    type={multi ? "checkbox" : "radio"}
                    name={`q-${view.id}`}
                    value={opt}
                    checked={picked.includes(opt)}
                    onChange={() => toggle(opt)}
                    disabled={busy}
                  />
                  {opt}
                  {descriptions[opt] ? <span className="muted"> — {descriptions[opt]}</span> : null}
                </label>
              ))}
              {options.length === 0 ? (
                <input type="text" placeholder="Your answer" value={other} onChange={(e) => setOther(e.target.value)} disabled={busy} aria-label="answer" />
              ) : null}
            </div>
            <div className="actions">
              {plan ? (
                <button type="button" disabled={busy} onClick={() => run(actions.replyQuestion(view.id, [[options.find((o) => /approve|yes|accept/i.test(o)) ?? options[0] ?? "approve"]]))}>
                  Approve plan
                </button>
              ) : (
                <button type="submit" disabled={busy || answers.length === 0}>Answer</button>
              )}
              <button type="button" className="danger" disabled={busy} onClick={() => run(actions.rejectQuestion(view.id))}>Reject</button>
            </div>
          </form>
        ) : null}
        {err ? <p className="error-text">{err}</p> : null}
      </div>
    );
  },
  (a, b) => a.view === b.view && a.rev === b.rev && a.actions === b.actions,
);
