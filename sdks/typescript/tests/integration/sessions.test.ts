// The session and agent routes against the real server and the mock agent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxAgent, SandboxAgentError, isEventType } from "../../src/index.js";
import { sessionId, startServer, textOf, until } from "./helpers.js";

let sdk: SandboxAgent;
beforeAll(async () => {
  sdk = await startServer();
});
afterAll(async () => {
  await sdk?.dispose();
});

const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as SandboxAgentError);

describe("meta and agents", () => {
  it("answers health without a token", async () => {
    expect(await sdk.getHealth()).toEqual({ status: "ok" });
    const anon = await SandboxAgent.connect({ baseUrl: sdk.baseUrl });
    expect(await anon.getHealth()).toEqual({ status: "ok" });
  });

  it("rejects a wrong token with a problem document", async () => {
    const wrong = await SandboxAgent.connect({ baseUrl: sdk.baseUrl, token: "wrong" });
    const e = await err(wrong.listAgents());
    expect(e).toBeInstanceOf(SandboxAgentError);
    expect([e!.status, e!.kind]).toEqual([401, "token_invalid"]);
  });

  it("lists the agents, mock installed", async () => {
    const { agents } = await sdk.listAgents();
    expect(agents?.map((a) => a.id)).toEqual(expect.arrayContaining(["claude", "codex", "opencode", "amp", "mock"]));
    const mock = agents!.find((a) => a.id === "mock")!;
    expect(mock.installed).toBe(true);
    expect(mock.capabilities.permissions).toBe(true);
  });

  it("installs the mock agent and lists its modes and models", async () => {
    await expect(sdk.installAgent("mock")).resolves.toBeUndefined();
    const modes = await sdk.getAgentModes("mock");
    expect(modes.modes?.map((m) => m.id)).toEqual(expect.arrayContaining(["build", "plan"]));
    const models = await sdk.getAgentModels("mock");
    expect(models.defaultModel).toBe("mock");
    expect(models.models?.map((m) => m.id)).toContain("mock");
  });

  it("names the unsupported agent", async () => {
    const e = await err(sdk.getAgentModes("nope"));
    expect([e!.status, e!.kind]).toEqual([400, "unsupported_agent"]);
    expect(e!.problem?.agent).toBe("nope");
  });
});

describe("sessions", () => {
  it("creates, gets, lists, and refuses a duplicate", async () => {
    const id = sessionId("create");
    const created = await sdk.createSession(id, { agent: "mock", title: "t1" });
    expect(created).toMatchObject({ healthy: true, nativeSessionId: `mock-${id}` });
    const info = await sdk.getSession(id);
    expect(info).toMatchObject({ sessionId: id, agent: "mock", agentMode: "build", title: "t1", ended: false });
    const { sessions } = await sdk.listSessions();
    expect(sessions?.[0]?.sessionId).toBe(id); // newest first
    const dup = await err(sdk.createSession(id, { agent: "mock" }));
    expect([dup!.status, dup!.kind, dup!.problem?.sessionId]).toEqual([409, "session_already_exists", id]);
  });

  it("streams a turn from turn.started to turn.ended", async () => {
    const id = sessionId("turn");
    await sdk.createSession(id, { agent: "mock" });
    const events = await until(sdk.streamTurn(id, { message: "Reply with exactly the single word OK." }));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("turn.started");
    expect(types.at(-1)).toBe("turn.ended");
    expect(types.filter((t) => t === "turn.started")).toHaveLength(1);
    const assistant = events.filter((e) => isEventType(e, "item.completed") && e.data.item.role === "assistant");
    expect(assistant.map(textOf)).toEqual(["OK"]);
    // sequences are consecutive and continue the session's log
    const seqs = events.map((e) => e.sequence);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(events.every((e) => e.session_id === id && e.raw === null)).toBe(true);
  });

  it("streams only the turn it started, also when queued behind a running turn", async () => {
    const id = sessionId("queued");
    await sdk.createSession(id, { agent: "mock" });
    await sdk.postMessage(id, { message: "markdown" }); // still running when the next message arrives
    const events = await until(sdk.streamTurn(id, { message: "echo second" }));
    expect(events[0]!.type).toBe("turn.started");
    expect(events.at(-1)!.type).toBe("turn.ended");
    const texts = events.filter((e) => isEventType(e, "item.completed")).map(textOf);
    expect(texts).toEqual(["echo second", "second"]); // the user's message and the reply, no markdown
    const log = (await sdk.getEvents(id)).events!;
    expect(log.filter((e) => e.type === "turn.ended" && e.sequence < events[0]!.sequence)).toHaveLength(1);
  });

  it("pages events with offset, limit and hasMore, raw on request", async () => {
    const id = sessionId("page");
    await sdk.createSession(id, { agent: "mock" });
    await until(sdk.streamTurn(id, { message: "echo paging" }));
    const all = await sdk.getEvents(id);
    expect(all.hasMore).toBe(false);
    const n = all.events!.length;
    expect(n).toBeGreaterThan(4);
    const page = await sdk.getEvents(id, { offset: 2, limit: 2 });
    expect(page.events!.map((e) => e.sequence)).toEqual([3, 4]);
    expect(page.hasMore).toBe(true);
  });

  it("includes native payloads only on request", async () => {
    const id = sessionId("raw");
    await sdk.createSession(id, { agent: "mock" });
    const turn = await until(sdk.streamTurn(id, { message: "unparsed" }, { includeRaw: true }));
    const unparsed = turn.find((e) => e.type === "agent.unparsed")!;
    expect(unparsed.raw).not.toBeNull();
    const plain = await sdk.getEvents(id, { offset: unparsed.sequence - 1, limit: 1 });
    expect(plain.events![0]!.raw).toBeNull();
    const raw = await sdk.getEvents(id, { offset: unparsed.sequence - 1, limit: 1, includeRaw: true });
    expect(raw.events![0]!.raw).toEqual(unparsed.raw);
  });

  it("posts a message and follows it on the event stream", async () => {
    const id = sessionId("post");
    await sdk.createSession(id, { agent: "mock" });
    await expect(sdk.postMessage(id, { message: "echo hello there" })).resolves.toBeUndefined();
    const ac = new AbortController();
    const events = await until(sdk.streamEvents(id, { signal: ac.signal }), "turn.ended");
    ac.abort();
    expect(events[0]!.type).toBe("session.started");
    expect(events[0]!.sequence).toBe(1);
    const done = events.filter((e) => isEventType(e, "item.completed") && e.data.item.role === "assistant");
    expect(done.map(textOf)).toEqual(["hello there"]);
  });

  it("gives the raw SSE responses of both stream routes", async () => {
    const id = sessionId("raw");
    await sdk.createSession(id, { agent: "mock" });
    const ac = new AbortController();
    const res = await sdk.getEventsSse(id, { offset: 0 }, ac.signal);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    ac.abort();
    const turn = await sdk.postMessageStream(id, { message: "echo x" });
    expect(turn.headers.get("content-type")).toContain("text/event-stream");
    const text = await turn.text(); // the turn stream closes by itself
    expect(text).toContain('"type":"turn.ended"');
  });

  it("interrupts a running turn and keeps the session", async () => {
    const id = sessionId("interrupt");
    await sdk.createSession(id, { agent: "mock" });
    await sdk.postMessage(id, { message: "markdown" });
    await sdk.interruptSession(id);
    const ac = new AbortController();
    const events = await until(sdk.streamEvents(id, { signal: ac.signal }), "turn.ended");
    ac.abort();
    expect(events.at(-1)!.type).toBe("turn.ended");
    expect((await sdk.getSession(id)).ended).toBe(false);
  });

  it("terminates: the session ends, its events stay, messages are refused", async () => {
    const id = sessionId("term");
    await sdk.createSession(id, { agent: "mock" });
    await sdk.terminateSession(id);
    await sdk.terminateSession(id); // idempotent
    expect((await sdk.getSession(id)).ended).toBe(true);
    const { events } = await sdk.getEvents(id);
    const ended = events!.filter((e) => e.type === "session.ended");
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({ reason: "terminated", terminated_by: "daemon" });
    const e = await err(sdk.postMessage(id, { message: "hi" }));
    expect(e!.status).toBe(400);
    const s = await err(until(sdk.streamTurn(id, { message: "hi" })));
    expect(s).toBeInstanceOf(SandboxAgentError);
  });

  it("deletes a session: afterwards it is not found", async () => {
    const id = sessionId("del");
    await sdk.createSession(id, { agent: "mock" });
    await sdk.deleteSession(id);
    const e = await err(sdk.getSession(id));
    expect([e!.status, e!.kind, e!.problem?.sessionId]).toEqual([404, "session_not_found", id]);
    expect((await err(sdk.getEvents(id)))!.status).toBe(404);
    expect((await err(until(sdk.streamEvents(id))))!.status).toBe(404);
  });

  it("ends an event stream with an error when its session is deleted", async () => {
    const id = sessionId("gone");
    await sdk.createSession(id, { agent: "mock" });
    const seen: string[] = [];
    const stream = (async () => {
      for await (const ev of sdk.streamEvents(id, { reconnect: { initialDelayMs: 10 } })) {
        seen.push(ev.type);
        if (ev.type === "session.started") await sdk.deleteSession(id);
      }
    })();
    const e = await stream.then(() => undefined, (x: unknown) => x as SandboxAgentError);
    expect(seen[0]).toBe("session.started");
    expect(e).toBeInstanceOf(SandboxAgentError);
    expect(e!.status).toBe(404);
  });
});
