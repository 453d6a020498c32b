// The create-session dialog: agent, agent mode, permission mode, model and
// variant from the API; MCP servers and skills as JSON.
import { useEffect, useState } from "react";
import type { AgentInfo, AgentModelsResponse, AgentModeInfo, CreateSessionRequest, SandboxAgent } from "sandbox-agent";

const permissionModes = ["default", "plan", "bypass", "acceptEdits"];

export default function CreateSession({ client, agents, onClose, onCreated }: { client: SandboxAgent; agents: AgentInfo[]; onClose(): void; onCreated(id: string): void }) {
  const installed = agents.filter((a) => a.installed);
  const [agent, setAgent] = useState(installed.find((a) => a.id === "mock")?.id ?? installed[0]?.id ?? agents[0]?.id ?? "");
  const [id, setId] = useState(() => `s-${Date.now().toString(36)}`);
  const [title, setTitle] = useState("");
  const [directory, setDirectory] = useState("");
  const [modes, setModes] = useState<AgentModeInfo[]>([]);
  const [models, setModels] = useState<AgentModelsResponse>({ models: [] });
  const [agentMode, setAgentMode] = useState("");
  const [permissionMode, setPermissionMode] = useState("default");
  const [model, setModel] = useState("");
  const [variant, setVariant] = useState("");
  const [mcp, setMcp] = useState("");
  const [skills, setSkills] = useState("");
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  const info = agents.find((a) => a.id === agent);

  useEffect(() => {
    setModes([]);
    setModels({ models: [] });
    setAgentMode("");
    setModel("");
    setVariant("");
    if (!info?.installed) return;
    let live = true;
    client.getAgentModes(agent).then((r) => live && setModes(r.modes), () => undefined);
    client.getAgentModels(agent).then((r) => live && setModels(r), () => undefined);
    return () => {
      live = false;
    };
  }, [client, agent, info?.installed]);

  const variants = models.models.find((m) => m.id === (model || models.defaultModel))?.variants ?? [];

  const submit = async () => {
    setErr(undefined);
    const req: CreateSessionRequest = { agent, permissionMode };
    if (agentMode) req.agentMode = agentMode;
    if (model) req.model = model;
    if (variant) req.variant = variant;
    if (title.trim()) req.title = title.trim();
    if (directory.trim()) req.directory = directory.trim();
    try {
      if (mcp.trim()) req.mcp = JSON.parse(mcp) as CreateSessionRequest["mcp"];
    } catch (e) {
      setErr(`MCP servers: not JSON (${String(e)})`);
      return;
    }
    try {
      if (skills.trim()) req.skills = JSON.parse(skills) as CreateSessionRequest["skills"];
    } catch (e) {
      setErr(`Skills: not JSON (${String(e)})`);
      return;
    }
    setBusy(true);
    try {
      const res = await client.createSession(id.trim(), req);
      if (res.error) {
        setErr(`${res.error.type}: ${res.error.message}`);
        setBusy(false);
        return;
      }
      onCreated(id.trim());
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        className="dialog"
        role="dialog"
        aria-label="new session"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        onKeyDown={(e) => e.key === "Escape" && onClose()}
      >
        <h2>New session</h2>
        <div className="grid">
          <label>
            Agent
            <select name="agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
              {agents.map((a) => (
                <option key={a.id} value={a.id}>{a.id}{a.installed ? "" : " (installs on first use)"}</option>
              ))}
            </select>
          </label>
          <label>
            Session id
            <input name="id" value={id} onChange={(e) => setId(e.target.value)} required />
          </label>
          <label>
            Agent mode
            <select name="agentMode" value={agentMode} onChange={(e) => setAgentMode(e.target.value)}>
              <option value="">(default)</option>
              {modes.map((m) => <option key={m.id} value={m.id}>{m.name || m.id}</option>)}
            </select>
          </label>
          <label>
            Permission mode
            <select name="permissionMode" value={permissionMode} onChange={(e) => setPermissionMode(e.target.value)}>
              {permissionModes.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </label>
          <label>
            Model
            <select name="model" value={model} onChange={(e) => { setModel(e.target.value); setVariant(""); }}>
              <option value="">{models.defaultModel ? `(default: ${models.defaultModel})` : "(default)"}</option>
              {models.models.map((m) => <option key={m.id} value={m.id}>{m.name ?? m.id}</option>)}
            </select>
          </label>
          <label>
            Variant
            <select name="variant" value={variant} onChange={(e) => setVariant(e.target.value)} disabled={variants.length === 0}>
              <option value="">(default)</option>
              {variants.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
          <label>
            Title
            <input name="title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="optional" />
          </label>
          <label>
            Directory
            <input name="directory" value={directory} onChange={(e) => setDirectory(e.target.value)} placeholder="the server's working directory" />
          </label>
        </div>
        <label>
          MCP servers <span className="muted">(JSON: name → {"{"}"type": "local", "command": [...]{"}"})</span>
          <textarea name="mcp" rows={3} value={mcp} onChange={(e) => setMcp(e.target.value)} placeholder='{"fs": {"type": "local", "command": ["npx", "mcp-server-fs"]}}' />
        </label>
        <label>
          Skills <span className="muted">(JSON)</span>
          <textarea name="skills" rows={2} value={skills} onChange={(e) => setSkills(e.target.value)} placeholder='{"sources": [{"type": "github", "source": "owner/repo"}]}' />
        </label>
        {err ? <p className="error-text" role="alert">{err}</p> : null}
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" disabled={busy || !agent}>{busy ? "Creating…" : "Create"}</button>
        </div>
      </form>
    </div>
  );
}
