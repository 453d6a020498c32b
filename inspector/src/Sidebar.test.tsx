import { act } from "react";
import { createRoot } from "react-dom/client";
import type { AgentInfo, SandboxAgent, SessionInfo } from "sandbox-agent";
import { expect, it, vi } from "vitest";
import { Sidebar } from "./Sidebar";
import { SessionCache } from "./store";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const caps = {} as AgentInfo["capabilities"];

it("installs an agent with progress, then refreshes the list", async () => {
  let finish!: () => void;
  const installAgent = vi.fn(() => new Promise<void>((r) => (finish = r)));
  const onAgentsChanged = vi.fn(async () => {});
  const agents: AgentInfo[] = [
    { id: "claude", installed: false, credentialsAvailable: false, capabilities: caps },
    { id: "mock", installed: true, version: "builtin", credentialsAvailable: true, capabilities: caps },
  ];
  const sessions = [{ sessionId: "s1", agent: "mock", updatedAt: Date.now(), ended: false, eventCount: 0 } as SessionInfo];
  const div = document.createElement("div");
  const root = createRoot(div);
  act(() =>
    root.render(
      <Sidebar agents={agents} sessions={sessions} cache={new SessionCache()} client={{ installAgent } as unknown as SandboxAgent} onOpen={vi.fn()} onNew={vi.fn()} onAgentsChanged={onAgentsChanged} />,
    ),
  );
  const row = div.querySelector("[data-agent=claude]")!;
  expect(div.querySelector("[data-agent=mock] button")).toBeNull(); // installed: no button
  await act(async () => row.querySelector("button")!.click());
  expect(installAgent).toHaveBeenCalledWith("claude", {});
  expect(row.querySelector("[role=progressbar]")).not.toBeNull();
  await act(async () => finish());
  expect(onAgentsChanged).toHaveBeenCalled();
  expect(row.querySelector("[role=progressbar]")).toBeNull();
  expect(div.querySelector("[data-session=s1]")?.textContent).toContain("mock · idle");
  act(() => root.unmount());
});
