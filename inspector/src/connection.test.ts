import { afterEach, describe, expect, it } from "vitest";
import { forget, initialEndpoint, remember } from "./connection";
import { RequestLog, toCurl } from "./requestLog";

const at = (href: string) => new URL(href) as unknown as Location;

describe("initialEndpoint", () => {
  afterEach(() => forget());

  it("uses the page's own origin when served by the binary", () => {
    expect(initialEndpoint(at("http://127.0.0.1:2468/ui/"), false)).toEqual({ endpoint: { baseUrl: "http://127.0.0.1:2468", token: undefined }, fromLink: false });
  });

  it("takes the server and token of a deep link", () => {
    expect(initialEndpoint(at("http://127.0.0.1:2468/ui/?url=http%3A%2F%2Fbox%3A8080&token=t%20k"), false)).toEqual({
      endpoint: { baseUrl: "http://box:8080", token: "t k" },
      fromLink: true,
    });
  });

  it("remembers the token of its own origin, but not another server over it", () => {
    remember({ baseUrl: "http://127.0.0.1:2468", token: "s3cret" });
    expect(initialEndpoint(at("http://127.0.0.1:2468/ui/"), false).endpoint.token).toBe("s3cret");
    remember({ baseUrl: "http://elsewhere:1", token: "x" });
    expect(initialEndpoint(at("http://127.0.0.1:2468/ui/"), false).endpoint).toEqual({ baseUrl: "http://127.0.0.1:2468", token: undefined });
    // The dev server serves no API: there the remembered server is tried.
    expect(initialEndpoint(at("http://127.0.0.1:5173/ui/"), true).endpoint.baseUrl).toBe("http://elsewhere:1");
  });
});

describe("request log", () => {
  it("logs every call through the wrapped fetch, failures included", async () => {
    const log = new RequestLog();
    const ok = log.wrap(async () => new Response("{}", { status: 201 }));
    await ok("http://h/v1/sessions/a", { method: "POST", headers: { Authorization: "Bearer t" }, body: '{"agent":"mock"}' });
    const bad = log.wrap(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(bad("http://h/v1/health")).rejects.toThrow("Failed to fetch");
    expect(log.entries.map((e) => [e.method, e.url, e.status ?? e.error])).toEqual([
      ["POST", "http://h/v1/sessions/a", 201],
      ["GET", "http://h/v1/health", "TypeError: Failed to fetch"],
    ]);
  });

  it("copies as a curl command a shell runs as it was sent", () => {
    const curl = toCurl({
      method: "POST",
      url: "http://127.0.0.1:2468/v1/sessions/a/messages",
      headers: [["content-type", "application/json"]],
      body: `{"message":"it's"}`,
      stream: false,
    });
    expect(curl).toBe(`curl -X POST -H 'content-type: application/json' --data-raw '{"message":"it'\\''s"}' http://127.0.0.1:2468/v1/sessions/a/messages`);
    expect(toCurl({ method: "GET", url: "http://h/v1/sessions/a/events/sse?offset=0", headers: [], stream: true })).toBe("curl -N 'http://h/v1/sessions/a/events/sse?offset=0'");
  });
});
