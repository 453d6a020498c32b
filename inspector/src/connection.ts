// Where the inspector's server is and how to reach it. Served by the binary
// it talks to its own origin; a deep link (?url=&token=) or the connect
// screen points it at another, remembered in localStorage.
import { SandboxAgent, SandboxAgentError } from "sandbox-agent";
import type { RequestLog } from "./requestLog";

export interface Endpoint {
  baseUrl: string;
  token?: string;
}

export type ConnectFailure =
  | { kind: "auth"; message: string }
  | { kind: "cors"; message: string; flag: string }
  | { kind: "unreachable"; message: string }
  | { kind: "other"; message: string };

const storageKey = "sandbox-agent-inspector:endpoint";

/**
 * The endpoint to try first: the deep link; else this origin (the binary
 * that served the page), with its remembered token. A remembered remote
 * server is tried first only by the dev server, which serves no API.
 */
export function initialEndpoint(loc: Location = window.location, dev = import.meta.env.DEV): { endpoint: Endpoint; fromLink: boolean } {
  const q = new URLSearchParams(loc.search);
  const url = q.get("url");
  const token = q.get("token") ?? undefined;
  if (url) return { endpoint: { baseUrl: url, token }, fromLink: true };
  const saved = remembered();
  if (saved && (dev || saved.baseUrl === loc.origin)) return { endpoint: token ? { ...saved, token } : saved, fromLink: false };
  return { endpoint: { baseUrl: loc.origin, token }, fromLink: false };
}

export function remembered(): Endpoint | undefined {
  try {
    const raw = localStorage.getItem(storageKey);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Endpoint;
    return typeof v.baseUrl === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

export function remember(e: Endpoint): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify(e));
  } catch {
    // Private mode: nothing is remembered, nothing breaks.
  }
}

export function forget(): void {
  try {
    localStorage.removeItem(storageKey);
  } catch {
    // as above
  }
}

/** Builds a client whose every request is logged. */
export function clientFor(e: Endpoint, log: RequestLog): Promise<SandboxAgent> {
  return SandboxAgent.connect({ baseUrl: e.baseUrl, token: e.token || undefined, fetch: log.wrap(globalThis.fetch.bind(globalThis)) });
}

/**
 * Checks that the server answers and accepts the token: the health route
 * (no token needed) says whether it is reachable at all, the agents route
 * whether the token is good. A fetch that fails outright is told apart as
 * CORS (an opaque no-cors request gets through) or unreachable.
 */
export async function probe(client: SandboxAgent, e: Endpoint, origin = window.location.origin): Promise<ConnectFailure | undefined> {
  try {
    await client.getHealth();
  } catch (err) {
    if (err instanceof SandboxAgentError) return { kind: "other", message: `${err.status} ${err.message}` };
    const sameOrigin = safeOrigin(e.baseUrl) === origin;
    if (!sameOrigin && (await reachableWithoutCors(e.baseUrl))) {
      return {
        kind: "cors",
        message: `The server at ${e.baseUrl} answered, but does not allow requests from this page's origin (${origin}).`,
        flag: `--cors-allow-origin ${origin}`,
      };
    }
    return { kind: "unreachable", message: `Nothing answered at ${e.baseUrl}: ${String(err)}` };
  }
  try {
    await client.listAgents();
  } catch (err) {
    if (err instanceof SandboxAgentError && err.status === 401) {
      return { kind: "auth", message: e.token ? "The server refused this token." : "The server requires a token." };
    }
    return { kind: "other", message: String(err) };
  }
  return undefined;
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

async function reachableWithoutCors(baseUrl: string): Promise<boolean> {
  try {
    await fetch(`${baseUrl.replace(/\/+$/, "")}/v1/health`, { mode: "no-cors" });
    return true;
  } catch {
    return false;
  }
}
