// Permission and question flows against the real server and the mock agent.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type SandboxAgent, type SandboxAgentError, type UniversalEvent, isEventType } from "../../src/index.js";
import { sessionId, startServer, until } from "./helpers.js";

let sdk: SandboxAgent;
beforeAll(async () => {
  sdk = await startServer();
});
afterAll(async () => {
  await sdk?.dispose();
});

// rest follows the turn after the turn stream stopped at a request.
async function rest(id: string, after: number): Promise<UniversalEvent[]> {
  const ac = new AbortController();
  try {
    return await until(sdk.streamEvents(id, { offset: after, signal: ac.signal }), "turn.ended");
  } finally {
    ac.abort();
  }
}

it("answers permission requests: once and reject", async () => {
  const id = sessionId("perm");
  await sdk.createSession(id, { agent: "mock" });
  const turn = await until(sdk.streamTurn(id, { message: "permissions" }));
  const asked = turn.at(-1)!;
  if (!isEventType(asked, "permission.requested")) throw new Error(`turn stream ended at ${asked.type}`);
  // the mock asks twice; the second request may come after the stream closed
  const first = asked.data.permission_id;
  await sdk.replyPermission(id, first, { reply: "once" });
  const after = await (async () => {
    const ac = new AbortController();
    const out: UniversalEvent[] = [];
    for await (const ev of sdk.streamEvents(id, { offset: asked.sequence, signal: ac.signal })) {
      out.push(ev);
      if (isEventType(ev, "permission.requested")) await sdk.replyPermission(id, ev.data.permission_id, { reply: "reject" });
      if (ev.type === "turn.ended") break;
    }
    ac.abort();
    return out;
  })();
  const resolved = after.filter((e) => isEventType(e, "permission.resolved")).map((e) => e.data as { permission_id: string; status: string });
  expect(resolved).toHaveLength(2);
  expect(resolved[0]).toMatchObject({ permission_id: first, status: "accept" });
  expect(resolved[1]!.status).toBe("reject");
  expect(after.at(-1)!.type).toBe("turn.ended");
});

it("remembers an 'always' permission for the session", async () => {
  const id = sessionId("always");
  await sdk.createSession(id, { agent: "mock" });
  const prompt = "List files in the current directory using available tools.";
  const turn = await until(sdk.streamTurn(id, { message: prompt }));
  const asked = turn.at(-1)!;
  if (!isEventType(asked, "permission.requested")) throw new Error(`turn stream ended at ${asked.type}`);
  await sdk.replyPermission(id, asked.data.permission_id, { reply: "always" });
  const after = await rest(id, asked.sequence);
  expect(after.find((e) => e.type === "permission.resolved")!.data).toMatchObject({ status: "accept_for_session" });
  expect(after.at(-1)!.type).toBe("turn.ended");
  // the same request again is approved without a reply
  const again = await until(sdk.streamTurn(id, { message: prompt }));
  expect(again[0]!.type).toBe("turn.started");
  const next = await rest(id, again.at(-1)!.sequence);
  const resolved = next.find((e) => e.type === "permission.resolved");
  expect(resolved?.data).toMatchObject({ status: "accept_for_session" });
  expect(next.at(-1)!.type).toBe("turn.ended");
});

it("answers one question and rejects another", async () => {
  const id = sessionId("quest");
  await sdk.createSession(id, { agent: "mock" });
  const turn = await until(sdk.streamTurn(id, { message: "questions" }));
  const ac = new AbortController();
  const seen: UniversalEvent[] = [...turn];
  let n = 0;
  const answer = async (ev: UniversalEvent) => {
    if (!isEventType(ev, "question.requested")) return;
    if (n++ === 0) {
      expect(ev.data.options).toEqual(["Red", "Blue"]);
      await sdk.replyQuestion(id, ev.data.question_id, { answers: [["Blue"]] });
    } else {
      await sdk.rejectQuestion(id, ev.data.question_id);
    }
  };
  await answer(turn.at(-1)!);
  for await (const ev of sdk.streamEvents(id, { offset: turn.at(-1)!.sequence, signal: ac.signal })) {
    seen.push(ev);
    await answer(ev);
    if (ev.type === "turn.ended") break;
  }
  ac.abort();
  const resolved = seen.filter((e) => isEventType(e, "question.resolved")).map((e) => e.data as { status: string; response: string | null });
  expect(resolved).toEqual([
    expect.objectContaining({ status: "answered", response: "Blue" }),
    expect.objectContaining({ status: "rejected", response: null }),
  ]);
});

it("refuses unknown permission and question ids, naming them", async () => {
  const id = sessionId("unknown");
  await sdk.createSession(id, { agent: "mock" });
  const p = (await sdk.replyPermission(id, "missing-permission", { reply: "once" }).catch((e: unknown) => e)) as SandboxAgentError;
  expect([p.status, p.kind]).toEqual([400, "invalid_request"]);
  expect(p.message).toContain("unknown permission id: missing-permission");
  const q = (await sdk.rejectQuestion(id, "missing-question").catch((e: unknown) => e)) as SandboxAgentError;
  expect([q.status, q.kind]).toEqual([400, "invalid_request"]);
  expect(q.message).toContain("unknown question id: missing-question");
  const bad = (await sdk
    .replyPermission(id, "x", { reply: "sometimes" as "once" })
    .catch((e: unknown) => e)) as SandboxAgentError;
  expect(bad.status).toBe(422);
  expect(bad.problem?.details?.field).toBe("body.reply");
});
