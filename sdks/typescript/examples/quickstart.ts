// Starts an embedded server, runs one turn of the mock agent and prints it.
// Run from an installed package: SANDBOX_AGENT_BIN=/path/to/sandbox-agent
// node quickstart.mjs (this file is also type-checked against the packed
// package by scripts/pack-smoke.mjs).
import { SandboxAgent, SandboxAgentError, isEventType, isKnownEvent } from "sandbox-agent";

const sdk = await SandboxAgent.start();
try {
  await sdk.createSession("quickstart", { agent: "mock" });
  let reply = "";
  for await (const event of sdk.streamTurn("quickstart", { message: "Reply with exactly the single word OK." })) {
    if (isEventType(event, "item.delta")) reply += event.data.delta;
    if (isKnownEvent(event) && event.type === "permission.requested") {
      await sdk.replyPermission("quickstart", event.data.permission_id, { reply: "once" });
    }
  }
  console.log(`reply: ${reply}`);
  await sdk.getSession("missing").catch((err: unknown) => {
    if (err instanceof SandboxAgentError) console.log(`error: ${err.status} ${err.kind}`);
  });
} finally {
  await sdk.dispose();
}
