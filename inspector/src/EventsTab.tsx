// The raw universal events of a session: filter by type, include the
// agent's native payloads, copy one event or all as JSON.
import { useMemo, useState } from "react";
import type { UniversalEvent } from "sandbox-agent";
import { copy } from "./clipboard";
import { JsonBlock } from "./transcript/Transcript";

export default function EventsTab({ events, includeRaw, onIncludeRaw }: { events: UniversalEvent[]; version: number; includeRaw: boolean; onIncludeRaw(v: boolean): void }) {
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<number>();
  const [all, setAll] = useState(false);
  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [events.length]);
  const shown = events.filter((e) => !hidden.has(e.type));
  // A long log renders its newest rows only, unless asked: thousands of
  // table rows make every new event slow to show.
  const rows = all || shown.length <= rowLimit ? shown : shown.slice(-rowLimit);
  const toggle = (t: string) => {
    const next = new Set(hidden);
    if (next.has(t)) next.delete(t);
    else next.add(t);
    setHidden(next);
  };
  return (
    <div className="events-tab">
      <div className="toolbar">
        <label>
          <input type="checkbox" checked={includeRaw} onChange={(e) => onIncludeRaw(e.target.checked)} /> include_raw
        </label>
        <span className="filters" aria-label="filter by type">
          {types.map((t) => (
            <label key={t} className={`chip${hidden.has(t) ? " off" : ""}`}>
              <input type="checkbox" checked={!hidden.has(t)} onChange={() => toggle(t)} /> {t}
            </label>
          ))}
        </span>
        <button type="button" className="small" onClick={() => void copy(JSON.stringify(shown, null, 2))}>Copy {shown.length} as JSON</button>
      </div>
      <div className="scroll">
        <table className="events">
          <thead>
            <tr><th>#</th><th>time</th><th>type</th><th>source</th><th>summary</th><th /></tr>
          </thead>
          <tbody>
            {rows.length < shown.length ? (
              <tr>
                <td colSpan={6} className="muted">
                  {shown.length - rows.length} older events not shown. <button type="button" className="link" onClick={() => setAll(true)}>Show all</button>
                </td>
              </tr>
            ) : null}
            {rows.map((e) => (
              <EventRow key={e.sequence} e={e} open={open === e.sequence} onToggle={() => setOpen(open === e.sequence ? undefined : e.sequence)} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const rowLimit = 1000;

function EventRow({ e, open, onToggle }: { e: UniversalEvent; open: boolean; onToggle(): void }) {
  return (
    <>
      <tr className={`event-row type-${e.type.replace(/\./g, "-")}${open ? " open" : ""}`} data-type={e.type} onClick={onToggle}>
        <td>{e.sequence}</td>
        <td className="muted">{e.time.slice(11, 23)}</td>
        <td><code>{e.type}</code>{e.synthetic ? <span className="muted"> (synthetic)</span> : null}</td>
        <td className="muted">{e.source}</td>
        <td className="summary">{summarize(e)}</td>
        <td>
          <button type="button" className="link" onClick={(ev) => { ev.stopPropagation(); void copy(JSON.stringify(e, null, 2)); }}>copy</button>
        </td>
      </tr>
      {open ? (
        <tr className="event-detail">
          <td colSpan={6}><JsonBlock value={e} /></td>
        </tr>
      ) : null}
    </>
  );
}

function summarize(e: UniversalEvent): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const item = d.item as Record<string, unknown> | undefined;
  if (item) return `${String(item.kind)} ${String(item.item_id)} ${String(item.status)}`;
  if (typeof d.delta === "string") return `${String(d.item_id)} +${JSON.stringify(d.delta.slice(0, 60))}`;
  if (typeof d.permission_id === "string") return `${String(d.action)} ${String(d.status)}`;
  if (typeof d.question_id === "string") return `${String(d.prompt).slice(0, 60)} ${String(d.status)}`;
  if (typeof d.message === "string") return d.message.slice(0, 80);
  if (typeof d.reason === "string") return `${d.reason} by ${String(d.terminated_by)}`;
  if (typeof d.error === "string") return d.error;
  return "";
}
