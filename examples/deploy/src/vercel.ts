// Vercel Sandbox: create a sandbox with the server's port routed, install
// sandbox-agent with install.sh (sudo: into /usr/local/bin), start the
// server detached with a token, reach it on the port's domain, run a
// session, stop the sandbox.
//
//   VERCEL_OIDC_TOKEN=... npx tsx src/vercel.ts   (or VERCEL_TOKEN, VERCEL_TEAM_ID, VERCEL_PROJECT_ID)
import { Sandbox } from "@vercel/sandbox";
import { SandboxAgent } from "sandbox-agent";
import { agent, agentEnv } from "./env.js";
import { PORT, SERVER_ARGS, installCommand, newToken, runSession } from "./session.js";

const token = newToken();
const sandbox = await Sandbox.create({ ports: [PORT], timeout: 15 * 60_000 });
try {
  const install = await sandbox.runCommand({ cmd: "sh", args: ["-c", installCommand()], sudo: true });
  console.log(await install.stdout());
  if (install.exitCode !== 0) throw new Error(`install.sh exited with ${install.exitCode}: ${await install.stderr()}`);

  await sandbox.runCommand({
    cmd: "sandbox-agent",
    args: SERVER_ARGS,
    env: { ...agentEnv(), SANDBOX_AGENT_TOKEN: token },
    detached: true,
  });

  const client = await SandboxAgent.connect({ baseUrl: sandbox.domain(PORT), token });
  const text = await runSession(client, { agent });
  console.log(`agent said: ${text}`);
} finally {
  await sandbox.stop();
}
