// E2B: create a sandbox, install sandbox-agent with install.sh, start the
// server with a token, reach it through E2B's public host for the port,
// run a session, kill the sandbox.
//
//   E2B_API_KEY=... npx tsx src/e2b.ts
import { Sandbox } from "e2b";
import { SandboxAgent } from "sandbox-agent";
import { agent, agentEnv } from "./env.js";
import { PORT, installCommand, newToken, runSession, serverCommand } from "./session.js";

const token = newToken();
const sandbox = await Sandbox.create({ timeoutMs: 15 * 60_000 });
try {
  // As root, install.sh puts the binary in /usr/local/bin. A failing
  // command throws CommandExitError with its output.
  const install = await sandbox.commands.run(installCommand(), { user: "root", timeoutMs: 120_000 });
  console.log(install.stdout);

  // timeoutMs 0: the server runs until the sandbox ends, not 60 s.
  await sandbox.commands.run(serverCommand(), {
    background: true,
    timeoutMs: 0,
    envs: { ...agentEnv(), SANDBOX_AGENT_TOKEN: token },
    onStderr: (line) => console.error(`[server] ${line}`),
  });

  const client = await SandboxAgent.connect({ baseUrl: `https://${sandbox.getHost(PORT)}`, token });
  const text = await runSession(client, { agent });
  console.log(`agent said: ${text}`);
} finally {
  await sandbox.kill();
}
