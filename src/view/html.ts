// HTML built so that escaping cannot be forgotten: `html` is a tagged template whose every
// interpolation is escaped unless it is already SafeHtml (made by `html` itself or `raw`).
// Everything shown comes from bundles — file names, test names, model messages, agent
// summaries — and is attacker-controlled, so the default must be the safe one.
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export type Html = SafeHtml | string | number | boolean | null | undefined | Html[];

function render(v: Html): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Html[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup we wrote ourselves (never data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A URL path built from components, each percent-encoded (a hostile name cannot add a segment or a scheme). */
export function hrefOf(...parts: string[]): string {
  return "/" + parts.map((p) => encodeURIComponent(p)).join("/");
}

/** `?k=v&...` with every value encoded; empty values left out. */
export function queryOf(params: Record<string, string | null | undefined>): string {
  const q = Object.entries(params).filter(([, v]) => v);
  return q.length ? "?" + q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v!)}`).join("&") : "";
}
