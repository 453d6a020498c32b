// Streams cut mid-way by a real network failure (a proxy dropping every
// connection) resume without losing or repeating an event.
import { afterAll, beforeAll, expect, it } from "vitest";
import { SandboxAgent, type UniversalEvent } from "../../src/index.js";
import { CuttingProxy, sessionId, startServer } from "./helpers.js";

let server: SandboxAgent;
let proxy: CuttingProxy;
let sdk: SandboxAgent;
beforeAll(async () => {
  server = await startServer({ token: "resume-token" });
  proxy = await CuttingProxy.start(server.baseUrl);
  sdk = await SandboxAgent.connect({ baseUrl: proxy.url, token: "resume-token" });
});
afterAll(async () => {
  await proxy?.close();
  await server?.dispose();
});

const fast = { initialDelayMs: 50, maxDelayMs: 200 };

function expectWholeLog(got: UniversalEvent[], log: UniversalEvent[]) {
  const seqs = got.map((e) => e.sequence);
  expect(new Set(seqs).size).toBe(seqs.length); // no duplicate
  expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i)); // no gap
  const byId = new Map(log.map((e) => [e.sequence, e.event_id]));
  expect(got.map((e) => e.event_id)).toEqual(got.map((e) => byId.get(e.sequence)));
}

it("streamEvents resumes after cut connections without gap or duplicate", async () => {
  const id = sessionId("resume");
  await sdk.createSession(id, { agent: "mock" });
  const ac = new AbortController();
  const got: UniversalEvent[] = [];
  const cuts: number[] = [];
  await sdk.postMessage(id, { message: "markdown" });
  let turnsEnded = 0;
  let deltas = 0;
  for await (const ev of sdk.streamEvents(id, { signal: ac.signal, reconnect: fast })) {
    got.push(ev);
    // cut twice mid-turn, while the agent keeps producing events
    if (ev.type === "item.delta" && [2, 5].includes(++deltas)) cuts.push(proxy.cut());
    if (ev.type === "turn.ended" && ++turnsEnded === 2) break;
    if (ev.type === "turn.ended") await sdk.postMessage(id, { message: "markdown" });
  }
  ac.abort();
  expect(cuts).toHaveLength(2);
  expect(cuts.every((n) => n > 0)).toBe(true); // each cut broke the open stream
  const log = (await sdk.getEvents(id)).events!;
  expect(got[0]!.sequence).toBe(1);
  expect(got.length).toBe(log.length);
  expectWholeLog(got, log);
});

it("streamTurn resumes a cut turn and still ends at the turn's end", async () => {
  const id = sessionId("turncut");
  await sdk.createSession(id, { agent: "mock" });
  const got: UniversalEvent[] = [];
  let cut = 0;
  for await (const ev of sdk.streamTurn(id, { message: "markdown" })) {
    got.push(ev);
    if (ev.type === "item.delta" && got.filter((e) => e.type === "item.delta").length === 2) cut = proxy.cut();
  }
  expect(cut).toBeGreaterThan(0);
  const log = (await sdk.getEvents(id)).events!;
  expect(got[0]!.type).toBe("turn.started");
  expect(got.at(-1)!.type).toBe("turn.ended");
  expectWholeLog(got, log);
  expect(got.at(-1)!.sequence).toBe(log.at(-1)!.sequence);
  expect(got.filter((e) => e.type === "item.delta").length).toBe(log.filter((e) => e.type === "item.delta").length);
});

it("an aborted stream ends at once, also while reconnecting", async () => {
  const id = sessionId("abort");
  await sdk.createSession(id, { agent: "mock" });
  const ac = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of sdk.streamEvents(id, { signal: ac.signal, reconnect: { initialDelayMs: 60_000 } })) {
      seen.push(ev.type);
      if (ev.type === "session.started") proxy.cut(); // now waiting a minute to reconnect
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const t = Date.now();
  ac.abort();
  await expect(done).resolves.toBeUndefined();
  expect(Date.now() - t).toBeLessThan(5_000);
  expect(seen).toEqual(["session.started"]);
});
