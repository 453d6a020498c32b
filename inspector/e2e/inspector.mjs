#!/usr/bin/env node
// The inspector in a real browser: Debian's chromium driven by
// playwright-core against the real binary (SANDBOX_AGENT_BIN) and its mock
// agent, through the UI the binary embeds at /ui/. It creates a session,
// sends `demo`, checks that every item kind renders, approves and rejects
// permissions, answers and rejects questions, interrupts a turn, sends an
// attachment, reads the events and request tabs, terminates and deletes;
// then the connect screen: a server that needs a token, a deep link, and a
// server that does not allow the page's origin (CORS). Screenshots go to
// inspector/test-results/ (gitignored). Any console error fails the test.
//
// Without chromium it skips, except in CI (CI set) where it fails.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const results = resolve(here, "..", "test-results");
const bin = process.env.SANDBOX_AGENT_BIN;
if (!bin) throw new Error("inspector e2e: set SANDBOX_AGENT_BIN to the binary under test");
const executablePath = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!executablePath) {
  if (process.env.CI) throw new Error("inspector e2e: chromium is not installed (.ci/run installs it)");
  console.log("inspector e2e: skipped, chromium is not installed");
  process.exit(0);
}

const servers = [];
const work = mkdtempSync(join(tmpdir(), "inspector-e2e-"));
let browser;
let passed = 0;
let failed = 0;
const consoleErrors = [];

// startServer runs the binary on a free loopback port and resolves its base URL.
function startServer(args, name) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const child = spawn(bin, ["server", "--host", "127.0.0.1", "--port", "0", "--data-dir", join(dir, "state"), ...args], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
    detached: true, // its own process group: its agents end with it
  });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`${name}: no "server listening" line in 20 s:\n${log}`)), 20_000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const m = /server listening"? addr=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ base: `http://${m[1]}`, dir });
      }
    });
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code}:\n${log}`)));
  });
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    throw e;
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

// newPage opens a page whose console errors fail the test, except those
// matching expected (the browser's own report of a failure the connect
// screen is there to explain).
async function newPage(viewport = { width: 1280, height: 800 }, expected = []) {
  const context = await browser.newContext({ viewport, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = `${msg.text()} (${msg.location().url})`;
    if (!expected.some((re) => re.test(text))) consoleErrors.push(text);
  });
  page.on("pageerror", (err) => consoleErrors.push(`page error: ${err.message}`));
  page.on("dialog", (d) => void d.accept());
  return page;
}

async function shot(page, name) {
  const file = join(results, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// kinds lists the data-kind values of the transcript's cards.
const kinds = (page) => page.$$eval("[data-testid=transcript] [data-kind]", (els) => [...new Set(els.map((e) => e.getAttribute("data-kind")))]);
const parts = (page) => page.$$eval("[data-testid=transcript] [data-part]", (els) => [...new Set(els.map((e) => e.getAttribute("data-part")))]);

try {
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
  const open = await startServer(["--no-token"], "open");
  const page = await newPage();
  const shots = [];

  await step("the binary serves the inspector at /ui/ and / redirects a browser there", async () => {
    await page.goto(`${open.base}/`);
    check(new URL(page.url()).pathname === "/ui/", `landed on ${page.url()}`);
    await page.locator(".agent-row[data-agent=mock]").waitFor();
    check((await page.locator(".connect-form").count()) === 0, "a connect step was shown for the server's own origin");
  });

  await step("create a session with the dialog", async () => {
    // Alt+N opens the dialog, Escape closes it.
    await page.keyboard.press("Alt+n");
    await page.getByRole("dialog", { name: "new session" }).waitFor();
    await page.getByRole("dialog", { name: "new session" }).locator("select[name=agent]").press("Escape");
    await page.getByRole("dialog", { name: "new session" }).waitFor({ state: "detached" });
    await page.getByRole("button", { name: "+ New" }).click();
    const dialog = page.getByRole("dialog", { name: "new session" });
    await dialog.locator("select[name=agent]").selectOption("mock");
    await dialog.locator("input[name=id]").fill("demo-1");
    await dialog.locator("input[name=title]").fill("Demo session");
    shots.push(await shot(page, "0-new-session"));
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.locator("section.session[data-session-id=demo-1]").waitFor();
    await page.locator(".session-row[data-session=demo-1]").waitFor();
  });

  await step("send demo: every item kind renders, permissions wait with a badge", async () => {
    await page.getByLabel("message").fill("demo");
    await page.getByLabel("message").press("Enter");
    await page.locator("[data-kind=permission][data-status=requested]").nth(1).waitFor();
    await page.getByTestId("running").waitFor();
    await page.locator(".session-row[data-session=demo-1] [data-testid=pending-badge]").waitFor();
    check((await page.title()).startsWith("(2) Demo session"), `the title does not count the waiting requests: ${await page.title()}`);
    const k = await kinds(page);
    for (const want of ["turn-started", "message", "system", "status", "tool_call", "tool_result", "unknown", "permission"]) {
      check(k.includes(want), `no ${want} card; saw ${k.join(", ")}`);
    }
    const p = await parts(page);
    for (const want of ["text", "reasoning", "json", "tool_call", "tool_result", "file_ref", "image", "status"]) {
      check(p.includes(want), `no ${want} part; saw ${p.join(", ")}`);
    }
    // Markdown became elements, deltas included; the diff is coloured.
    await page.locator(".md h1", { hasText: "Mock markdown" }).waitFor();
    check((await page.locator(".md table td", { hasText: "mock" }).count()) > 0, "the markdown table did not render");
    check((await page.locator(".md strong", { hasText: "bold" }).count()) > 0, "bold did not render");
    check((await page.locator(".diff .dl-add").count()) > 0 && (await page.locator(".diff .dl-del").count()) > 0, "the diff has no added/deleted lines");
    check((await page.locator("[data-kind=tool_result][data-status=failed]").count()) > 0, "the failed tool result is not marked");
    check((await page.locator("text=Mock assistant response with rich content.").count()) > 0, "the completed rich message is not shown");
    shots.push(await shot(page, "1-demo-permissions"));
  });

  await step("approve one permission, reject the other; resolved states show", async () => {
    await page.locator("[data-kind=permission][data-status=requested]").first().getByRole("button", { name: "Allow once" }).click();
    await page.locator("[data-kind=permission][data-status=accept]").waitFor();
    await page.locator("[data-kind=permission][data-status=requested]").first().getByRole("button", { name: "Reject" }).click();
    await page.locator("[data-kind=permission][data-status=reject]").waitFor();
    await page.locator("[data-kind=message]", { hasText: "echo mock: allowed once" }).waitFor();
    await page.locator("[data-kind=message]", { hasText: "deny.txt: rejected" }).waitFor();
    await page.locator("[data-kind=question][data-status=requested]").nth(1).waitFor();
  });

  await step("answer one question, reject the other", async () => {
    const color = page.locator("[data-kind=question][data-status=requested]", { hasText: "Choose a color" });
    await color.getByLabel("Blue").check();
    await color.getByRole("button", { name: "Answer" }).click();
    await page.locator("[data-kind=question][data-status=answered]").waitFor();
    await page.locator("[data-kind=question][data-status=requested]", { hasText: "Allow mock experiment?" }).getByRole("button", { name: "Reject" }).click();
    await page.locator("[data-kind=question][data-status=rejected]").waitFor();
    await page.locator("text=You answered: Blue.").waitFor();
    await page.locator("text=You rejected the question.").waitFor();
  });

  await step("the turn ends: errors, unparsed output, duration", async () => {
    await page.locator("[data-kind=turn-ended]").first().waitFor();
    const k = await kinds(page);
    for (const want of ["error", "agent.unparsed", "turn-ended"]) check(k.includes(want), `no ${want}; saw ${k.join(", ")}`);
    check((await page.getByTestId("running").count()) === 0, "still shown as running after turn.ended");
    check((await page.getByTestId("turn-duration").count()) > 0, "the turn's duration is not shown");
    check((await page.locator(".session-row[data-session=demo-1] [data-testid=pending-badge]").count()) === 0, "the badge outlived the answers");
    shots.push(await shot(page, "2-demo-done"));
  });

  await step("a session has its own address: a reload replays it", async () => {
    check(new URL(page.url()).pathname === "/ui/sessions/demo-1", `the address is ${page.url()}`);
    await page.reload();
    await page.locator("[data-kind=turn-ended]").first().waitFor();
    check((await page.locator("[data-kind=question][data-status=answered]").count()) === 1, "the answered question did not replay");
    await page.goto(`${open.base}/ui/sessions/no-such-session`);
    await page.getByText("There is no session no-such-session on this server.").waitFor();
    await page.goBack();
    await page.locator("[data-kind=turn-ended]").first().waitFor();
  });

  await step("interrupt a running turn", async () => {
    await page.getByLabel("message").fill("demo");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("running").waitFor();
    await page.locator("[data-kind=permission][data-status=requested]").first().waitFor();
    await page.getByRole("button", { name: "Interrupt" }).click();
    await page.locator("[data-kind=turn-ended]").nth(1).waitFor();
    await page.getByTestId("running").waitFor({ state: "detached" });
  });

  await step("send an image attachment and load it back from the server", async () => {
    // A 1×1 PNG.
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
    await page.getByLabel("attach files").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: png });
    await page.getByLabel("message").fill("echo with an image");
    await page.getByRole("button", { name: "Send" }).click();
    const user = page.locator("[data-kind=message][data-role=user]", { hasText: "echo with an image" });
    await user.waitFor();
    await user.getByRole("button", { name: "load from the server" }).click();
    const img = user.locator("img");
    await img.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth === 1, await img.elementHandle());
  });

  await step("events tab: raw events, type filter, include_raw", async () => {
    await page.getByRole("tab", { name: /Events/ }).click();
    const rows = page.locator("tr.event-row");
    await rows.first().waitFor();
    const all = await rows.count();
    check(all > 50, `only ${all} event rows`);
    await page.locator(".filters label", { hasText: "item.delta" }).locator("input").uncheck();
    const without = await rows.count();
    check(without < all && (await page.locator("tr.event-row[data-type='item.delta']").count()) === 0, "the filter did not hide item.delta");
    await page.getByLabel("include_raw").check();
    await page.locator("tr.event-row[data-type='item.completed']").first().click();
    await page.locator(".event-detail").waitFor();
    shots.push(await shot(page, "3-events"));
    await page.getByRole("tab", { name: "Transcript" }).click();
  });

  await step("request log lists every call with copy as curl", async () => {
    await page.getByRole("button", { name: "Requests" }).click();
    await page.locator("td.path", { hasText: "/v1/sessions/demo-1/messages" }).first().waitFor();
    check((await page.locator("td.path", { hasText: "/v1/fs/file" }).count()) > 0, "the attachment upload is not logged");
    check((await page.getByRole("button", { name: "copy as curl" }).count()) > 5, "no copy-as-curl buttons");
    // The copied command works: run it.
    const row = page.locator("tr", { has: page.locator("td.path", { hasText: /^\/v1\/agents$/ }) }).first();
    await row.getByRole("button", { name: "copy as curl" }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    check(curl.startsWith("curl ") && curl.includes(`${open.base}/v1/agents`), `copied: ${curl}`);
    const out = execFileSync("sh", ["-c", `${curl} -sS --fail`], { encoding: "utf8" });
    check(JSON.parse(out).agents.some((a) => a.id === "mock"), `the copied curl answered ${out}`);
    await page.getByRole("button", { name: "Agents" }).click();
    await page.locator(".agent-card[data-agent=mock] h4", { hasText: "Modes" }).waitFor();
    shots.push(await shot(page, "3b-agents"));
    await page.locator(".session-row[data-session=demo-1]").click();
  });

  await step("terminate, then delete", async () => {
    await page.getByRole("button", { name: "Terminate" }).click();
    await page.locator("[data-kind=session-ended]").waitFor();
    check((await page.getByLabel("message").count()) === 0, "the composer outlived the session");
    shots.push(await shot(page, "4-terminated"));
    await page.getByRole("button", { name: "Delete" }).click();
    await page.locator(".session-row[data-session=demo-1]").waitFor({ state: "detached" });
  });

  await step("phone width: the sidebar folds into a menu", async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(`${open.base}/ui/`);
    await phone.getByRole("button", { name: "menu" }).click();
    await phone.getByRole("button", { name: "+ New" }).click();
    await phone.getByRole("dialog", { name: "new session" }).getByRole("button", { name: "Create" }).click();
    await phone.getByLabel("message").fill("markdown");
    await phone.getByLabel("message").press("Enter");
    await phone.locator(".md h1", { hasText: "Mock markdown" }).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, `the page scrolls sideways by ${overflow}px at phone width`);
    shots.push(await shot(phone, "5-phone"));
    await phone.context().close();
  });

  await step("a server with a token: the connect screen asks for it", async () => {
    const locked = await startServer(["--token", "s3cret"], "locked");
    // The probe's 401 is reported on the console by the browser itself.
    const p = await newPage(undefined, [/status of 401 .*\/v1\/agents/]);
    await p.goto(`${locked.base}/ui/`);
    await p.locator("[data-failure=auth]").waitFor();
    await p.locator("input[name=token]").fill("s3cret");
    await p.getByRole("button", { name: "Connect" }).click();
    await p.locator(".agent-row[data-agent=mock]").waitFor();
    // Remembered: a reload connects without asking.
    await p.reload();
    await p.locator(".agent-row[data-agent=mock]").waitFor();
    await p.context().close();

    // A deep link carries the server and the token.
    const q = await newPage();
    await q.goto(`${locked.base}/ui/?url=${encodeURIComponent(locked.base)}&token=s3cret`);
    await q.locator(".agent-row[data-agent=mock]").waitFor();
    check(!q.url().includes("token="), "the token stayed in the address bar");
    await q.context().close();

    // The open server's page pointed at the locked one: CORS is off there.
    const r = await newPage(undefined, [/blocked by CORS policy/, /net::ERR_FAILED .*\/v1\/health/]);
    await r.goto(`${open.base}/ui/?url=${encodeURIComponent(locked.base)}`);
    await r.locator("[data-failure=cors]").waitFor();
    const text = await r.locator("[data-failure=cors]").innerText();
    check(text.includes(`--cors-allow-origin ${open.base}`), `the CORS note does not name the flag: ${text}`);
    shots.push(await shot(r, "6-connect-cors"));
    await r.context().close();

    // Nothing listens there at all.
    const gone = await newPage(undefined, [/ERR_CONNECTION_REFUSED/]);
    const closed = await new Promise((res) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const { port } = srv.address();
        srv.close(() => res(port));
      });
    });
    await gone.goto(`${open.base}/ui/?url=${encodeURIComponent(`http://127.0.0.1:${closed}`)}`);
    await gone.locator("[data-failure=unreachable]").waitFor();
    await gone.context().close();
  });

  await step("no console errors", async () => {
    check(consoleErrors.length === 0, `console errors:\n${consoleErrors.join("\n")}`);
  });
  console.log(`screenshots: ${results}`);
} catch (e) {
  if (failed === 0) {
    failed++;
    console.log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
  }
} finally {
  await browser?.close().catch(() => {});
  for (const s of servers) {
    try {
      process.kill(-s.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(results, "console.log"), consoleErrors.join("\n"));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
