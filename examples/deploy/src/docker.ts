// Docker: run the image built from this repository's Dockerfile
// (`docker build -t sandbox-agent .`) with dockerode, publish the port on
// loopback, run a session, then remove the container.
//
//   npx tsx src/docker.ts
import Docker from "dockerode";
import { SandboxAgent } from "sandbox-agent";
import { agent, agentEnv } from "./env.js";
import { PORT, newToken, runSession } from "./session.js";

const docker = new Docker(); // DOCKER_HOST or /var/run/docker.sock
const token = newToken();
const env = { ...agentEnv(), SANDBOX_AGENT_TOKEN: token };
const container = await docker.createContainer({
  Image: process.env.IMAGE ?? "sandbox-agent",
  Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ExposedPorts: { [`${PORT}/tcp`]: {} },
  HostConfig: {
    PortBindings: { [`${PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
    AutoRemove: true,
  },
});
try {
  await container.start();
  const info = await container.inspect();
  const hostPort = info.NetworkSettings.Ports[`${PORT}/tcp`]?.[0]?.HostPort;
  if (!hostPort) throw new Error("docker published no port");
  const client = await SandboxAgent.connect({ baseUrl: `http://127.0.0.1:${hostPort}`, token });
  const text = await runSession(client, { agent });
  console.log(`agent said: ${text}`);
} finally {
  await container.stop({ t: 10 }); // SIGTERM: the server ends its agents first
}
