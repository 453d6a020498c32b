// What every deploy example does once its sandbox runs sandbox-agent:
// connect, create a session, send one message, stream the turn's events
// (answering permission requests), and end the session.
//
// Uses only web-standard APIs, so the Cloudflare Worker example shares it.
import { SandboxAgent, isEventType, type UniversalEvent } from "sandbox-agent";

/** The port every example runs the server on. */
export const PORT = 2468;

/** Where install.sh comes from; a mirror can replace it. */
export const INSTALL_SCRIPT_URL =
  "https://github.com/sandbox-agent/sandbox-agent/releases/latest/download/install.sh";

/**
 * The shell command that installs sandbox-agent into the sandbox
 * (/usr/local/bin as root, ~/.local/bin otherwise), checksum-verified.
 * `version` pins a release such as "v0.3.0".
 */
export function installCommand(version?: string): string {
  const pin = version ? `SANDBOX_AGENT_VERSION=${version} ` : "";
  return `curl -fsSL ${INSTALL_SCRIPT_URL} | ${pin}sh`;
}

/**
 * The command that starts the server on all interfaces (the provider's
 * proxy reaches it from outside the sandbox). The token comes from the
 * SANDBOX_AGENT_TOKEN environment variable, not the command line, so it
 * does not show in `ps`.
 */
export function serverCommand(bin = "sandbox-agent"): string {
  return [bin, ...SERVER_ARGS].join(" ");
}

/** serverCommand's arguments, for APIs that take an argument list. */
export const SERVER_ARGS = ["server", "--host", "0.0.0.0", "--port", String(PORT)];

/** A random bearer token for one sandbox. */
export function newToken(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Waits until GET /v1/health answers, or throws after `timeoutMs`. */
export async function waitHealthy(client: SandboxAgent, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const health = await client.getHealth();
      if (health.status === "ok") return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`sandbox-agent not healthy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export interface RunOptions {
  /** mock (no credentials needed), claude, codex, opencode or amp. */
  agent?: string;
  message?: string;
  /** Called with one line per event. */
  log?: (line: string) => void;
}

/**
 * Runs one session to the end of its first turn and returns the agent's
 * text. Permission requests are answered "once"; in a real application a
 * person decides.
 */
export async function runSession(client: SandboxAgent, options: RunOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const sessionId = `example-${newToken().slice(0, 8)}`;
  await waitHealthy(client);
  await client.createSession(sessionId, { agent: options.agent ?? "mock" });
  let text = "";
  try {
    // The turn stream stops at a permission request; after answering it,
    // follow the session's event stream from there to the end of the turn.
    let events: AsyncIterable<UniversalEvent> = client.streamTurn(sessionId, {
      message: options.message ?? "demo",
    });
    for (let done = false; !done; ) {
      done = true;
      for await (const event of events) {
        log(`${event.sequence} ${event.type}`);
        if (isEventType(event, "item.delta")) {
          text += event.data.delta;
        } else if (isEventType(event, "permission.requested")) {
          await client.replyPermission(sessionId, event.data.permission_id, { reply: "once" });
          events = follow(client, sessionId, event.sequence);
          done = false;
          break;
        } else if (isEventType(event, "question.requested")) {
          await client.rejectQuestion(sessionId, event.data.question_id);
          events = follow(client, sessionId, event.sequence);
          done = false;
          break;
        }
      }
    }
  } finally {
    await client.terminateSession(sessionId);
  }
  return text;
}

/** The session's events after `offset`, up to the end of the turn. */
async function* follow(client: SandboxAgent, sessionId: string, offset: number): AsyncGenerator<UniversalEvent> {
  for await (const event of client.streamEvents(sessionId, { offset })) {
    yield event;
    if (event.type === "turn.ended" || event.type === "session.ended") return;
  }
}
