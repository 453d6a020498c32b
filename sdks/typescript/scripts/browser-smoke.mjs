#!/usr/bin/env node
// Runs the built ESM entry (dist/index.js) in headless Chromium: a page on
// one loopback origin connects to a real server on another (CORS), creates
// a mock session, streams a turn, reads the events page and maps an error.
// The page posts what it saw back; the script checks it. Needs dist/ built,
// SANDBOX_AGENT_BIN and Debian's chromium (CHROMIUM to override the path);
// without chromium it skips, except in CI (CI set) where it fails.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const sdkDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const chromium = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!chromium) {
  if (process.env.CI) throw new Error("browser-smoke: chromium is not installed (.ci/run installs it)");
  console.log("browser-smoke: skipped, chromium is not installed");
  process.exit(0);
}
const { SandboxAgent } = await import(join(sdkDir, "dist/index.js"));

const page = (baseUrl, token) => `<!doctype html><meta charset="utf-8"><title>sdk</title>
<script type="module">
import { SandboxAgent, SandboxAgentError, isEventType } from "/sandbox-agent.js";
const report = (result) => fetch("/result", { method: "POST", body: JSON.stringify(result) });
try {
  const sdk = await SandboxAgent.connect({ baseUrl: ${JSON.stringify(baseUrl)}, token: ${JSON.stringify(token)} });
  await sdk.createSession("browser", { agent: "mock" });
  const types = [];
  let text = "";
  for await (const ev of sdk.streamTurn("browser", { message: "echo from the browser" })) {
    types.push(ev.type);
    if (isEventType(ev, "item.delta")) text += ev.data.delta;
  }
  const { events } = await sdk.getEvents("browser", { offset: 0 });
  const err = await sdk.getSession("missing").catch((e) => e);
  await report({ types, text, count: events.length, error: err instanceof SandboxAgentError ? [err.status, err.kind] : String(err) });
} catch (e) {
  await report({ failure: String(e && e.stack || e) });
}
</script>`;

let agent;
let web;
let browser;
const profile = mkdtempSync(join(tmpdir(), "sdk-browser-"));
try {
  let done;
  const result = new Promise((resolve) => (done = resolve));
  web = createServer((req, res) => {
    if (req.url === "/sandbox-agent.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" }).end(readFileSync(join(sdkDir, "dist/index.js")));
    } else if (req.url === "/result") {
      let body = "";
      req.on("data", (c) => (body += c)).on("end", () => {
        res.end();
        done(JSON.parse(body));
      });
    } else if (req.url === "/") {
      res.writeHead(200, { "Content-Type": "text/html" }).end(page(agent.baseUrl, agent.token));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => web.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${web.address().port}`;
  // The page's origin differs from the server's: the server must allow it.
  agent = await SandboxAgent.start({ spawn: { log: "silent", args: ["--cors-allow-origin", origin] } });
  // Its own process group, so that its helper processes end with it.
  browser = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", `--user-data-dir=${profile}`, `${origin}/`], {
    stdio: "ignore",
    detached: true,
  });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("browser-smoke: no result from the page in 60 s")), 60_000).unref());
  const got = await Promise.race([result, timeout]);
  if (got.failure) throw new Error(`browser-smoke: the page failed: ${got.failure}`);
  const want = { text: "from the browser", first: "turn.started", last: "turn.ended", error: [404, "session_not_found"] };
  if (got.text !== want.text || got.types[0] !== want.first || got.types.at(-1) !== want.last || got.count !== got.types.length + 1 || JSON.stringify(got.error) !== JSON.stringify(want.error)) {
    throw new Error(`browser-smoke: unexpected result ${JSON.stringify(got)}`);
  }
  console.log(`browser-smoke: Chromium streamed a turn of ${got.types.length} events through the ESM build`);
} finally {
  if (browser?.pid) {
    try {
      process.kill(-browser.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  web?.close();
  await agent?.dispose();
  rmSync(profile, { recursive: true, force: true });
}
