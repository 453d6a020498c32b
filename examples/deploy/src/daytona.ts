// Daytona: create a sandbox, install sandbox-agent with install.sh, start
// the server in a background session, reach it through the port's preview
// link (private: it needs Daytona's preview token as well as ours), run a
// session, delete the sandbox.
//
//   DAYTONA_API_KEY=... npx tsx src/daytona.ts
import { Daytona } from "@daytonaio/sdk";
import { SandboxAgent } from "sandbox-agent";
import { agent, agentEnv } from "./env.js";
import { PORT, installCommand, newToken, runSession, serverCommand } from "./session.js";

const daytona = new Daytona(); // DAYTONA_API_KEY, DAYTONA_API_URL from the environment
const token = newToken();
const sandbox = await daytona.create({ envVars: { ...agentEnv(), SANDBOX_AGENT_TOKEN: token } });
try {
  // Not root: install.sh installs into ~/.local/bin.
  const install = await sandbox.process.executeCommand(`sh -c '${installCommand()}'`, undefined, undefined, 120);
  console.log(install.result);
  if (install.exitCode !== 0) throw new Error(`install.sh exited with ${install.exitCode}`);

  await sandbox.process.createSession("sandbox-agent");
  await sandbox.process.executeSessionCommand("sandbox-agent", {
    command: serverCommand("~/.local/bin/sandbox-agent"),
    runAsync: true,
  });

  const preview = await sandbox.getPreviewLink(PORT);
  const client = await SandboxAgent.connect({
    baseUrl: preview.url,
    token,
    headers: { "x-daytona-preview-token": preview.token },
  });
  const text = await runSession(client, { agent });
  console.log(`agent said: ${text}`);
} finally {
  await sandbox.delete();
}
