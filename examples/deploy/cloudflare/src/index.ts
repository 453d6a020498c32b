// Cloudflare Sandboxes: a Worker that, per request, starts a sandbox
// container, installs sandbox-agent with install.sh, starts the server with
// a token, talks to it through the container binding (the SDK's fetch
// option: no public URL needed), runs a session and destroys the sandbox.
//
//   npx wrangler dev        then   curl 'localhost:8787/run?agent=mock'
import { getSandbox, type Sandbox } from "@cloudflare/sandbox";
import { SandboxAgent } from "sandbox-agent";
import { PORT, installCommand, newToken, runSession, serverCommand } from "../../src/session.js";

export { Sandbox } from "@cloudflare/sandbox";

interface Env {
  Sandbox: DurableObjectNamespace<Sandbox>;
  /** Secrets for the agents (wrangler secret put ANTHROPIC_API_KEY). */
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/run") return new Response("try GET /run?agent=mock\n", { status: 404 });

    const sandbox = getSandbox(env.Sandbox, crypto.randomUUID());
    try {
      const install = await sandbox.exec(installCommand()); // root: /usr/local/bin
      if (!install.success) return new Response(`install.sh failed:\n${install.stderr}`, { status: 502 });

      const token = newToken();
      const server = await sandbox.startProcess(serverCommand(), {
        env: { SANDBOX_AGENT_TOKEN: token, ANTHROPIC_API_KEY: env.ANTHROPIC_API_KEY, OPENAI_API_KEY: env.OPENAI_API_KEY },
      });
      await server.waitForPort(PORT, { path: "/v1/health", status: 200, timeout: 60_000 });

      // The host name is never resolved: containerFetch routes each request
      // into the container's port.
      const client = await SandboxAgent.connect({
        baseUrl: "http://sandbox",
        token,
        fetch: (input, init) => sandbox.containerFetch(new Request(input, init), PORT),
      });
      const events: string[] = [];
      const text = await runSession(client, {
        agent: url.searchParams.get("agent") ?? "mock",
        message: url.searchParams.get("message") ?? "demo",
        log: (line) => events.push(line),
      });
      return Response.json({ text, events });
    } finally {
      await sandbox.destroy();
    }
  },
} satisfies ExportedHandler<Env>;
