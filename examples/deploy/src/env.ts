// Credentials handed to the agents inside the sandbox: whichever of these
// are set where the example runs. The mock agent needs none.
const names = ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AMP_API_KEY"];

export function agentEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

/** The agent to run: AGENT=claude npm run e2b, default mock. */
export const agent = process.env.AGENT ?? "mock";
