// The request log: every HTTP call this page made, newest first, with copy
// as curl.
import { useSyncExternalStore } from "react";
import { copy } from "./clipboard";
import { type RequestLog, toCurl } from "./requestLog";

export default function RequestsTab({ log }: { log: RequestLog }) {
  const entries = useSyncExternalStore(
    (fn) => log.subscribe(fn),
    () => log.entries,
  );
  return (
    <div className="requests-tab pad">
      <div className="toolbar">
        <h2>Requests</h2>
        <span className="muted">{entries.length} calls</span>
        <button type="button" className="small" onClick={() => log.clear()}>Clear</button>
      </div>
      <table className="requests">
        <thead>
          <tr><th>method</th><th>path</th><th>status</th><th>time</th><th /></tr>
        </thead>
        <tbody>
          {[...entries].reverse().map((e) => {
            const u = new URL(e.url);
            return (
              <tr key={e.id} className={e.error || (e.status ?? 0) >= 400 ? "failed" : ""}>
                <td><code>{e.method}</code></td>
                <td className="path" title={e.url}>{u.pathname}{u.search}</td>
                <td>{e.error ?? e.status ?? "…"}{e.stream ? <span className="muted"> (stream)</span> : null}</td>
                <td className="muted">{e.durationMs !== undefined ? `${e.durationMs} ms` : "pending"}</td>
                <td><button type="button" className="link" onClick={() => void copy(toCurl(e))}>copy as curl</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
