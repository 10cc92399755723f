// Agents' messages carry content as a string or a list of typed blocks; both read the same.
export function contentBlocks<B extends object>(content: unknown): (B & { type?: string; text?: string })[] {
  if (typeof content === "string") return [{ type: "text", text: content } as B & { type: string; text: string }];
  return Array.isArray(content) ? content.filter((b): b is B => typeof b === "object" && b !== null) : [];
}
