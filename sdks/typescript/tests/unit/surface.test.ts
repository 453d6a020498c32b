import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { SandboxAgent } from "../../src/index.js";

const methods = (names: string[]) =>
  names.filter((name) => typeof (SandboxAgent.prototype as unknown as Record<string, unknown>)[name] !== "function");

it("has every method of the original 0.1 client", () => {
  const original = [
    "getHealth", "listAgents", "installAgent", "getAgentModes", "getAgentModels", "createSession",
    "listSessions", "postMessage", "postMessageStream", "getEvents", "getEventsSse", "streamEvents",
    "streamTurn", "replyQuestion", "rejectQuestion", "replyPermission", "terminateSession",
    "listFsEntries", "readFsFile", "writeFsFile", "deleteFsEntry", "mkdirFs", "moveFs", "statFs",
    "uploadFsBatch", "dispose",
  ];
  expect(methods(original)).toEqual([]);
  expect(typeof SandboxAgent.connect).toBe("function");
  expect(typeof SandboxAgent.start).toBe("function");
});

it("has a method for every operation of docs/openapi.json (named by its operationId)", () => {
  const spec = JSON.parse(readFileSync(new URL("../../../../docs/openapi.json", import.meta.url), "utf8")) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const ops = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.operationId ?? "?"));
  expect(ops.length).toBeGreaterThan(20);
  // A new route needs a method in sdks/typescript/src/client.ts.
  expect(methods(ops)).toEqual([]);
});
