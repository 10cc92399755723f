// The parts of a chat-completions request the simulator reacts to, read leniently: agents
// send content as strings or part arrays, tools with or without JSON schemas.

export interface ToolView {
  name: string;
  /** `parameters.properties` of the tool's JSON schema ({} when absent). */
  properties: Record<string, { type?: unknown } & Record<string, unknown>>;
  required: string[];
}

export interface MessageView {
  role: string;
  text: string;
}

export interface ChatView {
  model: string | null;
  stream: boolean;
  includeUsage: boolean;
  /** `max_completion_tokens` or `max_tokens`; null when the client set neither. */
  maxTokens: number | null;
  tools: ToolView[];
  messages: MessageView[];
  /** `chat_template_kwargs.enable_thinking` when given (false turns reasoning off). */
  enableThinking: boolean | null;
  /** Rough prompt size: ~4 characters a token over messages and tool schemas. */
  promptTokens: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isRecord(part) && typeof part.text === "string" ? part.text : typeof part === "string" ? part : ""))
      .join("\n");
  }
  return "";
}

function readTool(raw: unknown): ToolView | null {
  if (!isRecord(raw)) return null;
  const fn = isRecord(raw.function) ? raw.function : raw;
  if (typeof fn.name !== "string") return null;
  const params = isRecord(fn.parameters) ? fn.parameters : {};
  const properties = isRecord(params.properties) ? (params.properties as ToolView["properties"]) : {};
  const required = Array.isArray(params.required) ? params.required.filter((r): r is string => typeof r === "string") : [];
  return { name: fn.name, properties, required };
}

export function readChatRequest(body: unknown): ChatView {
  const req = isRecord(body) ? body : {};
  const messages: MessageView[] = Array.isArray(req.messages)
    ? req.messages.filter(isRecord).map((m) => ({ role: typeof m.role === "string" ? m.role : "", text: messageText(m.content) }))
    : [];
  const tools = Array.isArray(req.tools) ? req.tools.map(readTool).filter((t): t is ToolView => t !== null) : [];
  const budget = typeof req.max_completion_tokens === "number" ? req.max_completion_tokens : typeof req.max_tokens === "number" ? req.max_tokens : null;
  const kwargs = isRecord(req.chat_template_kwargs) ? req.chat_template_kwargs : {};
  const promptChars = messages.reduce((n, m) => n + m.text.length + 8, 0) + (Array.isArray(req.tools) ? JSON.stringify(req.tools).length : 0);
  return {
    model: typeof req.model === "string" && req.model !== "" ? req.model : null,
    stream: req.stream === true,
    includeUsage: isRecord(req.stream_options) && req.stream_options.include_usage === true,
    maxTokens: budget,
    tools,
    messages,
    enableThinking: typeof kwargs.enable_thinking === "boolean" ? kwargs.enable_thinking : null,
    promptTokens: Math.max(1, Math.ceil(promptChars / 4)),
  };
}
