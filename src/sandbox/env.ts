// The agent's environment: an allowlist of harmless variables from the harness's own
// environment plus what the caller adds (HOME, the proxy URL, the per-run token). The
// user's provider keys and endpoint never pass, and an `extra` that would smuggle one in
// is refused.

const ALLOWED = new Set(["PATH", "LANG", "LANGUAGE", "TERM", "TZ"]);
const ALLOWED_PREFIX = /^LC_[A-Z_]+$/;

const VENDOR_PREFIX = /^(ANTHROPIC|OPENAI|AZURE|GEMINI|GOOGLE|MISTRAL|GROQ|TOGETHER|DEEPSEEK|OPENROUTER|HF|HUGGING_FACE|AWS|DASHSCOPE|QWEN)_/;
/** Parts of a vendor variable's name that make its value credential-like (a key, a token, where to send it). */
const VENDOR_SECRET_PART = /KEY|TOKEN|SECRET|PASS|URL|URI|ENDPOINT|HOST|CRED|AUTH|ORG|SESSION|COOKIE/;

/**
 * Names whose values in the harness's environment are treated as the user's secrets.
 * A vendor's variable counts only when its name says credential or endpoint: a user who
 * exported `OPENAI_MODEL=qwen3.6-35b-a3b` or `AWS_REGION` for other tools must not have
 * the agent's own `OPENAI_MODEL` refused as "carrying a secret" (found by
 * test/fault-injection.test.ts, case 14).
 */
export function isSecretName(name: string): boolean {
  return (
    name.startsWith("CTO_HARNESS_CASE_LOCAL_") ||
    (VENDOR_PREFIX.test(name) && VENDOR_SECRET_PART.test(name.replace(VENDOR_PREFIX, ""))) ||
    /(API_KEY|_TOKEN|SECRET|PASSWORD|PASSWD|_KEY|BASE_URL|_CREDENTIALS?)$/.test(name)
  );
}

/** Names the caller may never set in `extra` (they are the user's own endpoint config). */
const NEVER_EXTRA = /^CTO_HARNESS_CASE_LOCAL_/;

export function agentEnv(base: Record<string, string | undefined>, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    if (ALLOWED.has(k) || ALLOWED_PREFIX.test(k)) out[k] = v;
  }
  const userSecrets = Object.entries(base)
    .filter(([k, v]) => v !== undefined && v.length >= 8 && isSecretName(k))
    .map(([, v]) => v!);
  for (const [k, v] of Object.entries(extra)) {
    if (NEVER_EXTRA.test(k)) throw new Error(`agent environment: ${k} is the user's endpoint configuration and is never passed to an agent`);
    // Never print the value: only the name of the variable that carried it.
    if (userSecrets.some((s) => v.includes(s))) throw new Error(`agent environment: ${k} would carry a secret from the harness's environment`);
    out[k] = v;
  }
  return out;
}
