function n(){throw new Error("SandboxAgent.start does not run in a browser")}export{n as spawnSandboxAgent};
