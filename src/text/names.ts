// File names are the agent's input: any bytes but '/' and NUL. They are carried as bytes and
// shown escaped, reversibly: `\\` for a backslash, `\xNN` for a control character or a byte
// that is not part of valid UTF-8; everything else as it is. The same escape makes any text
// the agent controls safe to print on a terminal (no escape sequences, no carriage returns).

const HEX = (b: number) => `\\x${b.toString(16).padStart(2, "0")}`;

/** True for code points that move a terminal's cursor or start an escape sequence. */
function isControl(cp: number): boolean {
  return cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 || cp === 0x202e || cp === 0x2066 || cp === 0x2067 || cp === 0x2068 || cp === 0x2069 || cp === 0x202a || cp === 0x202b || cp === 0x202c || cp === 0x202d;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function utf8SequenceLength(buf: Uint8Array, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const need = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (need === 0 || i + need > buf.length) return 0;
  for (let k = 1; k < need; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return 0;
  const b1 = buf[i + 1]!;
  if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
  if (b0 === 0xed && b1 >= 0xa0) return 0; // surrogate
  if (b0 === 0xf0 && b1 < 0x90) return 0; // overlong
  if (b0 === 0xf4 && b1 >= 0x90) return 0; // beyond U+10FFFF
  return need;
}

/** Bytes → printable, reversible text (see the file comment). */
export function escapeBytes(buf: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < buf.length) {
    const n = utf8SequenceLength(buf, i);
    if (n === 0) {
      out += HEX(buf[i]!);
      i++;
      continue;
    }
    const ch = Buffer.from(buf.subarray(i, i + n)).toString("utf8");
    const cp = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (isControl(cp)) out += n === 1 ? HEX(cp) : [...buf.subarray(i, i + n)].map(HEX).join("");
    else out += ch;
    i += n;
  }
  return out;
}

/** The inverse of escapeBytes. */
export function unescapeToBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let plain = "";
  const flush = () => {
    if (plain) parts.push(Buffer.from(plain, "utf8"));
    plain = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && text[i + 1] === "\\") {
      plain += "\\";
      i++;
    } else if (c === "\\" && text[i + 1] === "x" && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      flush();
      parts.push(Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else plain += c;
  }
  flush();
  return Buffer.concat(parts);
}

/** Text the agent (or a model server) controls, made safe for a terminal: control characters escaped. */
export function escapeForTerminal(text: string): string {
  return escapeBytes(Buffer.from(text, "utf8"));
}

/** Multi-line text for a terminal: each line escaped (escapeForTerminal), the line breaks kept. */
export function escapeLinesForTerminal(text: string): string {
  return text.split("\n").map(escapeForTerminal).join("\n");
}

/** A path's bytes split at '/' (a name's segments may hold any other byte). */
export function splitPathBytes(name: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name[i] === 0x2f) {
      out.push(Buffer.from(name.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}
