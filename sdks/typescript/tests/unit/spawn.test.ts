import { expect, it } from "vitest";
import { SandboxAgent } from "../../src/index.js";
import { listeningPort } from "../../src/spawn.js";

it("reads the port from the server's start-up log line, text or JSON", () => {
  const text = 'time=2026-11-29T07:00:00Z level=INFO msg="server listening" addr=127.0.0.1:43121 inspector=http://127.0.0.1:43121/ui/ auth=true\n';
  expect(listeningPort(text)).toBe(43121);
  expect(listeningPort('{"time":"x","level":"INFO","msg":"server listening","addr":"[::]:2468","auth":true}\n')).toBe(2468);
  expect(listeningPort('level=INFO msg="starting" addr=127.0.0.1:1\n')).toBeUndefined();
  expect(listeningPort('level=INFO msg="server listening" addr=127.0.0.1:')).toBeUndefined(); // cut mid-line
});

it("refuses a quiet log level without a port, before spawning anything", async () => {
  await expect(
    SandboxAgent.start({ spawn: { binaryPath: "/nonexistent", args: ["--log-level", "warn"] } }),
  ).rejects.toThrow(/pass spawn.port/);
});
