// Local: the SDK starts `sandbox-agent server` itself (on a free loopback
// port, with a fresh token) and stops it at the end.
//
//   npx tsx src/local.ts          (sandbox-agent must be on PATH)
import { SandboxAgent } from "sandbox-agent";
import { agent } from "./env.js";
import { runSession } from "./session.js";

const client = await SandboxAgent.start();
try {
  const text = await runSession(client, { agent });
  console.log(`agent said: ${text}`);
} finally {
  await client.dispose();
}
