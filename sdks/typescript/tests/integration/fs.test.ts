// The file-system routes against the real server.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SandboxAgent, SandboxAgentError } from "../../src/index.js";
import { sessionId, startServer } from "./helpers.js";

let sdk: SandboxAgent;
let dir: string;
beforeAll(async () => {
  sdk = await startServer();
  dir = mkdtempSync(join(tmpdir(), "sdk-fs-"));
});
afterAll(async () => {
  await sdk?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

// tar builds an uncompressed ustar archive of regular files.
function tar(files: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const blocks: Uint8Array[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = enc.encode(text);
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(enc.encode(s), at);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
    put("00000000000\0", 136);
    put("        ", 148);
    put("0", 156);
    put("ustar\0" + "00", 257);
    const sum = h.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

it("writes, reads, stats, lists, moves and deletes", async () => {
  const a = join(dir, "one/a.txt");
  const w = await sdk.writeFsFile({ path: a }, "hello");
  expect(w).toEqual({ path: a, bytesWritten: 5 });
  expect(new TextDecoder().decode(await sdk.readFsFile({ path: a }))).toBe("hello");
  await sdk.writeFsFile({ path: join(dir, "one/b.bin") }, new Uint8Array([0, 1, 2, 255]));
  expect(await sdk.readFsFile({ path: join(dir, "one/b.bin") })).toEqual(new Uint8Array([0, 1, 2, 255]));

  const st = await sdk.statFs({ path: a });
  expect(st).toMatchObject({ path: a, entryType: "file", size: 5 });
  expect(typeof st.modified).toBe("string");

  const entries = await sdk.listFsEntries({ path: join(dir, "one") });
  expect(entries.map((e) => [e.name, e.entryType, e.size]).sort()).toEqual([
    ["a.txt", "file", 5],
    ["b.bin", "file", 4],
  ]);

  expect(await sdk.mkdirFs({ path: join(dir, "two/deep") })).toEqual({ path: join(dir, "two/deep") });
  const to = join(dir, "two/deep/a.txt");
  expect(await sdk.moveFs({ from: a, to })).toEqual({ from: a, to });
  expect(existsSync(a)).toBe(false);
  expect(readFileSync(to, "utf8")).toBe("hello");

  await sdk.writeFsFile({ path: a }, "again");
  const clash = (await sdk.moveFs({ from: a, to }).catch((e: unknown) => e)) as SandboxAgentError;
  expect(clash.status).toBe(400);
  expect(clash.message).toContain("already exists");
  await sdk.moveFs({ from: a, to, overwrite: true });
  expect(readFileSync(to, "utf8")).toBe("again");

  const notEmpty = (await sdk.deleteFsEntry({ path: join(dir, "two") }).catch((e: unknown) => e)) as SandboxAgentError;
  expect(notEmpty.status).toBe(400);
  expect(notEmpty.message).toContain("not empty");
  expect(await sdk.deleteFsEntry({ path: join(dir, "two"), recursive: true })).toEqual({ path: join(dir, "two") });
  expect(existsSync(join(dir, "two"))).toBe(false);
});

it("resolves relative paths in a session's directory", async () => {
  const id = sessionId("fs");
  await sdk.createSession(id, { agent: "mock", directory: dir });
  await sdk.writeFsFile({ path: "rel/x.txt", sessionId: id }, "in session");
  expect(readFileSync(join(dir, "rel/x.txt"), "utf8")).toBe("in session");
  const entries = await sdk.listFsEntries({ path: "rel", sessionId: id });
  expect(entries.map((e) => e.path)).toEqual([join(dir, "rel/x.txt")]);
  await sdk.moveFs({ from: "rel/x.txt", to: "rel/y.txt" }, { sessionId: id });
  expect(existsSync(join(dir, "rel/y.txt"))).toBe(true);
  const escape = (await sdk.statFs({ path: "../etc/passwd", sessionId: id }).catch((e: unknown) => e)) as SandboxAgentError;
  expect(escape.status).toBe(400);
});

it("uploads tar and tar.gz archives", async () => {
  const files = { "u/a.txt": "A", "u/sub/b.txt": "BB" };
  const res = await sdk.uploadFsBatch(tar(files), { path: join(dir, "up") });
  expect(res.truncated).toBe(false);
  expect(res.paths).toEqual(expect.arrayContaining([join(dir, "up/u/a.txt"), join(dir, "up/u/sub/b.txt")]));
  expect(readFileSync(join(dir, "up/u/sub/b.txt"), "utf8")).toBe("BB");
  await sdk.uploadFsBatch(gzipSync(tar({ "z.txt": "zipped" })), { path: join(dir, "upgz") }, { contentType: "application/gzip" });
  expect(readFileSync(join(dir, "upgz/z.txt"), "utf8")).toBe("zipped");
  const evil = (await sdk.uploadFsBatch(tar({ "../evil.txt": "x" }), { path: join(dir, "up") }).catch((e: unknown) => e)) as SandboxAgentError;
  expect(evil.status).toBe(400);
  expect(existsSync(join(dir, "evil.txt"))).toBe(false);
});

it("maps a missing file to a problem document", async () => {
  const e = (await sdk.readFsFile({ path: join(dir, "nope.txt") }).catch((x: unknown) => x)) as SandboxAgentError;
  expect([e.status, e.kind]).toEqual([400, "invalid_request"]);
  expect(e.problem?.detail).toBe(`invalid request: path not found: ${join(dir, "nope.txt")}`);
});
