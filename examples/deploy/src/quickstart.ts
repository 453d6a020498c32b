import { SandboxAgent, isEventType } from "sandbox-agent";

const client = await SandboxAgent.start(); // spawns sandbox-agent on a free port, with a token
try {
  await client.createSession("demo", { agent: "mock" });
  for await (const event of client.streamTurn("demo", { message: "hello" })) {
    if (isEventType(event, "item.delta")) process.stdout.write(event.data.delta);
  }
} finally {
  await client.dispose(); // stops the server
}
