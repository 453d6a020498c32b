// Embedded mode: SandboxAgent.start() runs the real binary.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";
import { SandboxAgent, SandboxAgentError } from "../../src/index.js";
import { startServer } from "./helpers.js";

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as Error,
  );
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

it("starts on a free loopback port with a fresh token, and dispose stops it", async () => {
  const a = await startServer();
  const b = await startServer();
  try {
    expect(a.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.baseUrl).not.toBe(b.baseUrl);
    expect((await a.listAgents()).agents?.length).toBeGreaterThan(0);
    // the token is required: a client without it is refused
    const anon = await SandboxAgent.connect({ baseUrl: a.baseUrl });
    const e = await anon.listSessions().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SandboxAgentError);
    expect((e as SandboxAgentError).status).toBe(401);
  } finally {
    await b.dispose();
  }
  const pid = a.process!.pid!;
  expect(alive(pid)).toBe(true);
  await a.dispose();
  await a.dispose(); // twice is fine
  expect(alive(pid)).toBe(false);
  await expect(fetch(`${a.baseUrl}/v1/health`)).rejects.toThrow();
});

it("uses a given port and token", async () => {
  const probe = await startServer();
  const port = Number(new URL(probe.baseUrl).port);
  await probe.dispose(); // the port is free again
  const sdk = await startServer({ port, token: "given-token" });
  try {
    expect(sdk.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const other = await SandboxAgent.connect({ baseUrl: sdk.baseUrl, token: "given-token" });
    expect((await other.listSessions()).sessions).toEqual([]);
    // the token is passed by environment: the command line (what `ps` shows) does not carry it
    const argv = readFileSync(`/proc/${sdk.process!.pid}/cmdline`, "utf8").split("\0");
    expect(argv.slice(1, 3)).toEqual(["server", "--host"]);
    expect(argv.join(" ")).not.toContain("given-token");
  } finally {
    await sdk.dispose();
  }
});

it("shows the server's stderr when it fails to start", async () => {
  const err = await failure(startServer({ args: ["--log-level", "bogus"] }));
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).toContain("exited before it was healthy (exit code 1)");
  expect(err!.message).toContain('--log-level: "bogus" is not one of');
});

it("says how to provide a missing binary", async () => {
  const err = await failure(SandboxAgent.start({ spawn: { binaryPath: "/nonexistent/sandbox-agent", log: "silent" } }));
  expect(err!.message).toMatch(/could not be started: .*ENOENT/);
});

it("stops the server when the Node process exits without dispose", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdk-exit-"));
  const script = join(dir, "exit.mjs");
  const entry = resolve("src/index.ts");
  writeFileSync(
    script,
    `import { SandboxAgent } from ${JSON.stringify(entry)};
const sdk = await SandboxAgent.start({ spawn: { log: "silent" } });
console.log(sdk.process.pid);
await sdk.getHealth();
// no dispose: the process ends here
`,
  );
  // SANDBOX_AGENT_BIN is how the script finds the binary.
  const viteNode = resolve("node_modules/vite-node/vite-node.mjs"); // runs TypeScript sources
  const { stdout } = await run(process.execPath, [viteNode, script], {
    env: { ...process.env, SANDBOX_AGENT_BIN: inject("binary") },
    timeout: 20_000,
  }).catch(async (e: { stderr?: string }) => {
    throw new Error(`script failed: ${e.stderr ?? e}`);
  });
  const pid = Number(stdout.trim());
  expect(pid).toBeGreaterThan(0);
  expect(await gone(pid)).toBe(true);
});
