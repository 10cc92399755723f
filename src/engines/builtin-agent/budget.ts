// The output-token budget every real-agent engine gives the model per reply, so engines
// compare fairly and a local server is not asked for more than it can hold. Qwen Code 0.24
// would otherwise ask for max_tokens 64000 (vLLM refuses prompt + max_tokens > max-model-len),
// Pi for what its model entry says, the builtin agent for its own default.

export const AGENT_MAX_TOKENS_VAR = "CTO_HARNESS_AGENT_MAX_TOKENS";
export const AGENT_CONTEXT_WINDOW_VAR = "CTO_HARNESS_AGENT_CONTEXT_WINDOW";
/** Room for a long think plus a tool call; thinking models spend thousands of tokens per turn. */
export const DEFAULT_AGENT_MAX_TOKENS = 16384;

function positiveInt(raw: string | undefined): number | null {
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) && n > 0 ? n : null;
}

/** max_tokens per model reply, from the harness's environment. */
export function agentMaxTokens(env: NodeJS.ProcessEnv): number {
  return positiveInt(env[AGENT_MAX_TOKENS_VAR]) ?? DEFAULT_AGENT_MAX_TOKENS;
}

/** The server's context window when the user declared it (agents that compact need it), else null. */
export function agentContextWindow(env: NodeJS.ProcessEnv): number | null {
  return positiveInt(env[AGENT_CONTEXT_WINDOW_VAR]);
}
