import type { ProblemDetails } from "./types.js";

/**
 * An HTTP error answer of the server. `problem` is its RFC 9457 problem
 * document when the body was one (the usual case: `type` is
 * `urn:sandbox-agent:error:<kind>`, `detail` names the bad field or id).
 */
export class SandboxAgentError extends Error {
  /** The HTTP status code. */
  readonly status: number;
  /** The parsed problem document, when the body was one. */
  readonly problem?: ProblemDetails;
  /** The response (its body has been read). */
  readonly response: Response;

  constructor(status: number, problem: ProblemDetails | undefined, response: Response, body?: string) {
    super(errorMessage(status, problem, body));
    this.name = "SandboxAgentError";
    this.status = status;
    this.problem = problem;
    this.response = response;
  }

  /** The error kind: the part of the problem `type` after `urn:sandbox-agent:error:` (e.g. `session_not_found`). */
  get kind(): string | undefined {
    const type = this.problem?.type;
    if (!type) return undefined;
    const prefix = "urn:sandbox-agent:error:";
    return type.startsWith(prefix) ? type.slice(prefix.length) : type;
  }
}

function errorMessage(status: number, problem: ProblemDetails | undefined, body: string | undefined): string {
  if (problem) return problem.detail ?? problem.title ?? `Request failed with status ${status}`;
  const text = body?.trim();
  if (text) return `Request failed with status ${status}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
  return `Request failed with status ${status}`;
}

/** Reads a failed response's body as a problem document, if it is one. */
export async function readProblem(response: Response): Promise<{ problem?: ProblemDetails; body: string }> {
  let body = "";
  try {
    body = await response.text();
  } catch {
    return { body };
  }
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && typeof (parsed as { status?: unknown }).status === "number") {
      return { problem: parsed as ProblemDetails, body };
    }
  } catch {
    // not JSON: a plain-text answer (unknown route, proxy error page …)
  }
  return { body };
}
