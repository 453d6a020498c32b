// The connect screen: shown when the server cannot be reached, needs a
// token, or the page is not served by the server it should talk to.
import { useState } from "react";
import type { ConnectFailure, Endpoint } from "./connection";

export function ConnectScreen({ endpoint, failure, busy, onConnect }: { endpoint: Endpoint; failure?: ConnectFailure; busy: boolean; onConnect(e: Endpoint): void }) {
  const [baseUrl, setBaseUrl] = useState(endpoint.baseUrl);
  const [token, setToken] = useState(endpoint.token ?? "");
  if (busy && !failure) return <div className="connect pad muted">Connecting to {endpoint.baseUrl}…</div>;
  return (
    <div className="connect">
      <form
        className="connect-form"
        onSubmit={(e) => {
          e.preventDefault();
          onConnect({ baseUrl: baseUrl.trim().replace(/\/+$/, ""), token: token.trim() || undefined });
        }}
      >
        <h1>sandbox-agent inspector</h1>
        <label>
          Server
          <input name="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="http://127.0.0.1:2468" required />
        </label>
        <label>
          Token
          <input name="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} placeholder="only if the server requires one" autoFocus={failure?.kind === "auth"} />
        </label>
        {failure ? <FailureNote failure={failure} /> : null}
        <button type="submit" disabled={busy}>{busy ? "Connecting…" : "Connect"}</button>
      </form>
    </div>
  );
}

function FailureNote({ failure }: { failure: ConnectFailure }) {
  switch (failure.kind) {
    case "auth":
      return <p className="note" data-failure="auth" role="alert"><strong>Authentication:</strong> {failure.message} Enter the server's <code>--token</code>.</p>;
    case "cors":
      return (
        <div className="note" data-failure="cors" role="alert">
          <p><strong>CORS:</strong> {failure.message} Restart the server with:</p>
          <pre className="code">sandbox-agent server {failure.flag}</pre>
        </div>
      );
    case "unreachable":
      return <p className="note" data-failure="unreachable" role="alert"><strong>Unreachable:</strong> {failure.message}</p>;
    default:
      return <p className="note" data-failure="other" role="alert">{failure.message}</p>;
  }
}
