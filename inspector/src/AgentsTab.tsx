// Agents in detail: install state, capabilities, modes and models.
import { useEffect, useState } from "react";
import type { AgentInfo, AgentModelsResponse, AgentModesResponse, SandboxAgent } from "sandbox-agent";

export default function AgentsTab({ client, agents }: { client: SandboxAgent; agents: AgentInfo[]; onChanged(): Promise<void> }) {
  return (
    <div className="agents-tab pad">
      <h2>Agents</h2>
      {agents.map((a) => (
        <AgentCard key={a.id} client={client} agent={a} />
      ))}
    </div>
  );
}

function AgentCard({ client, agent }: { client: SandboxAgent; agent: AgentInfo }) {
  const [modes, setModes] = useState<AgentModesResponse>();
  const [models, setModels] = useState<AgentModelsResponse>();
  const [err, setErr] = useState<string>();
  useEffect(() => {
    // Modes and models of an agent that is not installed are a 404.
    if (!agent.installed) return;
    client.getAgentModes(agent.id).then(setModes, (e: unknown) => setErr(String(e)));
    client.getAgentModels(agent.id).then(setModels, (e: unknown) => setErr(String(e)));
  }, [client, agent.id, agent.installed]);
  const caps = Object.entries(agent.capabilities).filter(([, v]) => v).map(([k]) => k);
  return (
    <div className="card agent-card" data-agent={agent.id}>
      <div className="card-head">
        <strong>{agent.id}</strong>
        <span className={`badge ${agent.installed ? "badge-ok" : ""}`}>{agent.installed ? `installed ${agent.version ?? ""}` : "not installed"}</span>
        {agent.credentialsAvailable ? <span className="badge badge-ok">credentials</span> : <span className="badge">no credentials</span>}
        {agent.serverStatus ? <span className="badge">server {agent.serverStatus.status}</span> : null}
      </div>
      {agent.path ? <p className="muted"><code>{agent.path}</code></p> : null}
      <p className="caps">{caps.map((c) => <span key={c} className="chip">{c}</span>)}</p>
      {modes ? (
        <>
          <h4>Modes</h4>
          <ul>{modes.modes.map((m) => <li key={m.id}><code>{m.id}</code> {m.name} <span className="muted">{m.description}</span></li>)}</ul>
        </>
      ) : null}
      {models ? (
        <>
          <h4>Models</h4>
          <ul>
            {models.models.map((m) => (
              <li key={m.id}>
                <code>{m.id}</code> {m.name ?? ""}
                {m.id === models.defaultModel ? <span className="badge">default</span> : null}
                {m.variants?.length ? <span className="muted"> variants: {m.variants.join(", ")}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {err ? <p className="error-text">{err}</p> : null}
    </div>
  );
}
