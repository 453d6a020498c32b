import { describe, expect, it } from "vitest";
import { SandboxAgent, SandboxAgentError } from "../../src/index.js";
import { fakeFetch, json } from "./fake-fetch.js";

async function client(respond?: Parameters<typeof fakeFetch>[0], extra: { token?: string; headers?: HeadersInit } = {}) {
  const f = fakeFetch(respond);
  const sdk = await SandboxAgent.connect({ baseUrl: "http://sandbox.test:2468///", fetch: f.fetch, ...extra });
  return { sdk, calls: f.calls };
}

describe("URL building", () => {
  it("strips trailing slashes and prefixes /v1", async () => {
    const { sdk, calls } = await client(() => json({ status: "ok" }));
    expect(sdk.baseUrl).toBe("http://sandbox.test:2468");
    await sdk.getHealth();
    expect(calls[0]!.url.href).toBe("http://sandbox.test:2468/v1/health");
    expect(calls[0]!.method).toBe("GET");
  });

  it("keeps a base path", async () => {
    const f = fakeFetch(() => json({ sessions: [] }));
    const sdk = await SandboxAgent.connect({ baseUrl: "https://proxy.test/sandbox/abc/", fetch: f.fetch });
    await sdk.listSessions();
    expect(f.calls[0]!.url.href).toBe("https://proxy.test/sandbox/abc/v1/sessions");
  });

  it("percent-encodes ids in path segments", async () => {
    const { sdk, calls } = await client();
    await sdk.replyPermission("a/b c", "perm?#1", { reply: "once" });
    expect(calls[0]!.url.pathname).toBe("/v1/sessions/a%2Fb%20c/permissions/perm%3F%231/reply");
    await sdk.getAgentModels("my agent");
    expect(calls[1]!.url.pathname).toBe("/v1/agents/my%20agent/models");
  });

  it("puts the events query in camelCase and leaves unset values out", async () => {
    const { sdk, calls } = await client(() => json({ events: [], hasMore: false }));
    await sdk.getEvents("s1", { offset: 10, limit: 50 });
    expect(calls[0]!.url.pathname).toBe("/v1/sessions/s1/events");
    expect(calls[0]!.url.search).toBe("?offset=10&limit=50");
    await sdk.getEvents("s1", { includeRaw: true, offset: undefined });
    expect(calls[1]!.url.search).toBe("?includeRaw=true");
    await sdk.getEvents("s1");
    expect(calls[2]!.url.search).toBe("");
  });

  it("maps file-system queries", async () => {
    const { sdk, calls } = await client(() => json({ path: "/x" }));
    await sdk.deleteFsEntry({ path: "dir/a b", sessionId: "s1", recursive: true });
    expect(calls[0]!.method).toBe("DELETE");
    expect(calls[0]!.url.pathname).toBe("/v1/fs/entry");
    expect(Object.fromEntries(calls[0]!.url.searchParams)).toEqual({ path: "dir/a b", sessionId: "s1", recursive: "true" });
    await sdk.moveFs({ from: "a", to: "b", overwrite: true }, { sessionId: "s2" });
    expect(calls[1]!.url.search).toBe("?sessionId=s2");
    expect(JSON.parse(calls[1]!.body!)).toEqual({ from: "a", to: "b", overwrite: true });
  });
});

describe("headers and bodies", () => {
  it("sends the bearer token, default headers and Accept", async () => {
    const { sdk, calls } = await client(() => json({ agents: [] }), { token: "s3cret", headers: { "X-Tenant": "t1" } });
    await sdk.listAgents();
    const h = calls[0]!.headers;
    expect(h.get("authorization")).toBe("Bearer s3cret");
    expect(h.get("x-tenant")).toBe("t1");
    expect(h.get("accept")).toBe("application/json");
  });

  it("sends no Authorization header without a token", async () => {
    const { sdk, calls } = await client(() => json({ agents: [] }));
    await sdk.listAgents();
    expect(calls[0]!.headers.has("authorization")).toBe(false);
  });

  it("the token wins over a default Authorization header", async () => {
    const { sdk, calls } = await client(() => json({ agents: [] }), { token: "t", headers: { Authorization: "Basic x" } });
    await sdk.listAgents();
    expect(calls[0]!.headers.get("authorization")).toBe("Bearer t");
  });

  it("sends JSON bodies of questions, permissions and installs", async () => {
    const { sdk, calls } = await client();
    await sdk.replyQuestion("s", "q1", { answers: [["Red"], []] });
    await sdk.rejectQuestion("s", "q2");
    await sdk.installAgent("claude");
    await sdk.installAgent("codex", { reinstall: true, agentVersion: "1.2.3" });
    expect(calls.map((c) => [c.method, c.url.pathname, c.headers.get("content-type"), c.body])).toEqual([
      ["POST", "/v1/sessions/s/questions/q1/reply", "application/json", '{"answers":[["Red"],[]]}'],
      ["POST", "/v1/sessions/s/questions/q2/reject", null, undefined],
      ["POST", "/v1/agents/claude/install", "application/json", "{}"],
      ["POST", "/v1/agents/codex/install", "application/json", '{"reinstall":true,"agentVersion":"1.2.3"}'],
    ]);
  });

  it("sends raw bodies with their content type", async () => {
    const { sdk, calls } = await client(() => json({ path: "/p", bytesWritten: 2, paths: [], truncated: false }));
    await sdk.writeFsFile({ path: "a.txt" }, "hi");
    await sdk.uploadFsBatch(new Uint8Array([1]), { path: "d" });
    await sdk.uploadFsBatch(new Uint8Array([1]), undefined, { contentType: "application/gzip" });
    expect(calls.map((c) => [c.method, c.url.pathname + c.url.search, c.headers.get("content-type")])).toEqual([
      ["PUT", "/v1/fs/file?path=a.txt", "application/octet-stream"],
      ["POST", "/v1/fs/upload-batch?path=d", "application/x-tar"],
      ["POST", "/v1/fs/upload-batch", "application/gzip"],
    ]);
    expect(calls[0]!.body).toBe("hi");
  });

  it("returns undefined for 204 answers and bytes for files", async () => {
    const { sdk } = await client((req) =>
      req.url.pathname === "/v1/fs/file" ? new Response(new Uint8Array([0, 255, 7])) : new Response(null, { status: 204 }),
    );
    await expect(sdk.terminateSession("s")).resolves.toBeUndefined();
    expect(await sdk.readFsFile({ path: "bin" })).toEqual(new Uint8Array([0, 255, 7]));
  });

  it("turns null lists into empty ones", async () => {
    const { sdk } = await client((req) =>
      json(
        req.url.pathname === "/v1/fs/entries"
          ? null
          : { agents: null, sessions: null, events: null, modes: null, models: null, paths: null, hasMore: false, truncated: false },
      ),
    );
    expect(await sdk.listFsEntries()).toEqual([]);
    expect((await sdk.listAgents()).agents).toEqual([]);
    expect((await sdk.listSessions()).sessions).toEqual([]);
    expect(await sdk.getEvents("s")).toMatchObject({ events: [], hasMore: false });
    expect((await sdk.getAgentModes("a")).modes).toEqual([]);
    expect((await sdk.getAgentModels("a")).models).toEqual([]);
    expect((await sdk.uploadFsBatch("x")).paths).toEqual([]);
  });
});

describe("error mapping", () => {
  const problem = {
    type: "urn:sandbox-agent:error:session_not_found",
    title: "Session Not Found",
    status: 404,
    detail: "session not found: s9",
    sessionId: "s9",
    futureField: { kept: true },
  };

  it("throws SandboxAgentError with status, problem document and kind", async () => {
    const { sdk } = await client(() => json(problem, 404));
    const err = await sdk.getSession("s9").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxAgentError);
    expect(err).toBeInstanceOf(Error);
    const e = err as SandboxAgentError;
    expect(e.name).toBe("SandboxAgentError");
    expect(e.status).toBe(404);
    expect(e.problem).toEqual(problem);
    expect(e.kind).toBe("session_not_found");
    expect(e.message).toBe("session not found: s9");
    expect(e.response.status).toBe(404);
  });

  it("falls back to the title when there is no detail", async () => {
    const { sdk } = await client(() => json({ type: "urn:sandbox-agent:error:token_invalid", title: "Token Invalid", status: 401 }, 401));
    const e = (await sdk.listAgents().catch((x: unknown) => x)) as SandboxAgentError;
    expect([e.status, e.kind, e.message]).toEqual([401, "token_invalid", "Token Invalid"]);
  });

  it("keeps a plain-text error body in the message", async () => {
    const { sdk } = await client(() => new Response("404 Not Found\n\nThis is a Sandbox Agent server.", { status: 404 }));
    const e = (await sdk.getHealth().catch((x: unknown) => x)) as SandboxAgentError;
    expect(e.status).toBe(404);
    expect(e.problem).toBeUndefined();
    expect(e.kind).toBeUndefined();
    expect(e.message).toContain("404 Not Found");
  });

  it("maps errors of streaming requests before the stream starts", async () => {
    const { sdk } = await client(() => json({ ...problem, detail: "session not found: s1" }, 404));
    const it = sdk.streamTurn("s1", { message: "hi" });
    await expect(it.next()).rejects.toMatchObject({ name: "SandboxAgentError", status: 404 });
    const ev = sdk.streamEvents("s1");
    await expect(ev.next()).rejects.toMatchObject({ name: "SandboxAgentError", status: 404 });
  });

  it("lets network errors through", async () => {
    const sdk = await SandboxAgent.connect({
      baseUrl: "http://x.test",
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    await expect(sdk.getHealth()).rejects.toThrow("fetch failed");
  });
});

describe("connect", () => {
  it("requires a base URL", async () => {
    await expect(SandboxAgent.connect({ baseUrl: "" })).rejects.toThrow("baseUrl is required");
  });

  it("refuses to start without spawn", async () => {
    await expect(SandboxAgent.start({ spawn: false })).rejects.toThrow(/spawn/);
  });
});
