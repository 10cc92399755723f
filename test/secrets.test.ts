// Pure rules of the leak scanner: which parts of a secret are searched for, in which
// encodings, and that the multi-needle matcher and redactor find every occurrence.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodedForms, secretNeedles, secretParts, stableBase64 } from "../src/secrets/variants.ts";
import { MultiMatcher, StreamMatcher } from "../src/secrets/matcher.ts";
import { Redactor } from "../src/secrets/redactor.ts";
import { agentEnv } from "../src/sandbox/env.ts";

const CANARY = "http://canaryuser:canary-pass-8361@canary-host.example:8000/v1?token=tok-canary-5521";

describe("secretParts", () => {
  it("splits a URL into the parts a leak is made of", () => {
    const parts = secretParts(CANARY);
    expect(parts[0]).toBe(CANARY);
    for (const p of [
      "canaryuser:canary-pass-8361@canary-host.example:8000/v1?token=tok-canary-5521",
      "http://canary-host.example:8000",
      "canary-host.example:8000",
      "canary-host.example",
      "canaryuser:canary-pass-8361",
      "canaryuser",
      "canary-pass-8361",
      "tok-canary-5521",
    ])
      expect(parts).toContain(p);
    expect(parts.every((p) => p.length >= 8)).toBe(true);
    expect(parts).not.toContain("v1");
    expect(parts).not.toContain("http");
  });
  it("decodes percent-encoded userinfo and keeps short whole values", () => {
    expect(secretParts("http://u:p%40ssw0rd-x@h.example/")).toContain("p@ssw0rd-x");
    expect(secretParts("abc")).toEqual(["abc"]);
    expect(secretParts("sk-abcdef123456")).toEqual(["sk-abcdef123456"]);
  });
  it("does not treat loopback hosts, short users or dates as secrets", () => {
    const parts = secretParts("http://127.0.0.1:8000/v1?api-version=2024-02-01");
    expect(parts).not.toContain("127.0.0.1");
    expect(parts).not.toContain("2024-02-01");
    expect(secretParts("http://bob:hunter2hunter2@spark:8000/v1")).not.toContain("bob");
  });
});

describe("encodedForms", () => {
  it("covers raw, URL, JSON, hex, XML, base64 at three alignments and Basic auth", () => {
    const forms = encodedForms("user:pa/ss&<w0rd>").map((f) => f.form);
    for (const f of ["raw", "url-encoded", "json-escaped", "hex", "xml-escaped", "base64@0", "base64@1", "base64@2", "basic-auth"])
      expect(forms).toContain(f);
    const needles = encodedForms("a/b&c<d>e'f\"g").map((f) => f.needle.toString());
    expect(needles).toContain("a\\/b&c<d>e'f\\\"g");
    expect(needles).toContain("a/b&amp;c&lt;d&gt;e&apos;f&quot;g");
    expect(needles).toContain("a%2Fb%26c%3Cd%3Ee'f%22g");
  });
  it("covers UTF-16 (little and big endian): a password written by a Windows tool is still found", () => {
    const part = "canarypw9911";
    const forms = encodedForms(part);
    const le = Buffer.concat([Buffer.from("\ufeff", "utf16le"), Buffer.from(`password=${part}\r\n`, "utf16le")]);
    const be = Buffer.from(`x${part}y`, "utf16le").swap16();
    expect(forms.some((f) => f.form === "utf-16le" && le.includes(f.needle))).toBe(true);
    expect(forms.some((f) => f.form === "utf-16be" && be.includes(f.needle))).toBe(true);
  });

  it("stable base64 appears in the encoding whatever precedes and follows the value", () => {
    for (let trial = 0; trial < 200; trial++) {
      const value = randomBytes(8 + (trial % 13));
      for (const align of [0, 1, 2] as const) {
        for (let pre = 0; pre < 6; pre++) {
          if (pre % 3 !== align) continue;
          const whole = Buffer.concat([randomBytes(pre), value, randomBytes(trial % 4)]).toString("base64");
          expect(whole).toContain(stableBase64(value, align));
        }
      }
    }
  });
});

describe("MultiMatcher / StreamMatcher / Redactor", () => {
  it("finds the same occurrences as indexOf, across chunk boundaries", () => {
    const needles = secretNeedles([CANARY, "sk-key-0123456789"]).map((n) => n.needle);
    const m = new MultiMatcher(needles);
    const parts: Buffer[] = [];
    const expected: [number, number][] = [];
    let off = 0;
    for (let i = 0; i < 300; i++) {
      const noise = randomBytes(Math.floor(Math.random() * 500));
      parts.push(noise);
      off += noise.length;
      const k = Math.floor(Math.random() * needles.length);
      parts.push(needles[k]!);
      off += needles[k]!.length;
    }
    const data = Buffer.concat(parts);
    for (let k = 0; k < needles.length; k++) {
      let at = data.indexOf(needles[k]!);
      while (at !== -1) {
        expected.push([k, at]);
        at = data.indexOf(needles[k]!, at + 1);
      }
    }
    const key = (a: [number, number][]) => a.map(([k, p]) => `${k}@${p}`).sort();
    const whole: [number, number][] = [];
    m.scan(data, (k, p) => whole.push([k, p]));
    expect(key(whole)).toEqual(key(expected));
    const streamed: [number, number][] = [];
    const sm = new StreamMatcher(m, (k, p) => streamed.push([k, p]));
    for (let i = 0; i < data.length; i += 97) sm.push(data.subarray(i, i + 97));
    expect(key(streamed)).toEqual(key(expected));
    expect(off).toBe(data.length);
  });
  it("redacts across chunk boundaries, merging overlapping occurrences", () => {
    const m = new MultiMatcher(secretNeedles([CANARY]).map((n) => n.needle));
    const input = Buffer.from(`a ${CANARY} b canary-pass-8361 c ${"x".repeat(300)} ${encodeURIComponent(CANARY)} end`);
    for (const step of [1, 7, 64, 100000]) {
      const r = new Redactor(m);
      const out: Buffer[] = [];
      for (let i = 0; i < input.length; i += step) out.push(r.push(input.subarray(i, i + step)));
      out.push(r.end());
      const text = Buffer.concat(out).toString();
      expect(text).toBe(`a [REDACTED] b [REDACTED] c ${"x".repeat(300)} [REDACTED] end`);
    }
  });
});

describe("agentEnv", () => {
  const base = {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    TERM: "xterm",
    TZ: "UTC",
    HOME: "/root",
    ANTHROPIC_API_KEY: "sk-ant-real-0123456789",
    OPENAI_API_KEY: "sk-openai-real-0123456789",
    OPENAI_BASE_URL: "https://api.openai.com/v1",
    CTO_HARNESS_CASE_LOCAL_BASE_URL: CANARY,
    CTO_HARNESS_CASE_LOCAL_API_KEY: "local-key-0123456789",
    AWS_SECRET_ACCESS_KEY: "aws-secret-0123456789",
    SSH_AUTH_SOCK: "/tmp/ssh-agent",
    NODE_OPTIONS: "--require /tmp/evil.js",
  };
  it("passes only the allowlist plus extra", () => {
    const env = agentEnv(base, { HOME: "/tmp/agent-home", OPENAI_API_KEY: "run-token-abcdef", OPENAI_BASE_URL: "http://127.0.0.1:4000/v1" });
    expect(env).toEqual({
      PATH: "/usr/bin:/bin",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TERM: "xterm",
      TZ: "UTC",
      HOME: "/tmp/agent-home",
      OPENAI_API_KEY: "run-token-abcdef",
      OPENAI_BASE_URL: "http://127.0.0.1:4000/v1",
    });
    const text = JSON.stringify(env);
    for (const v of [base.ANTHROPIC_API_KEY, base.CTO_HARNESS_CASE_LOCAL_API_KEY, "canary-pass-8361", base.AWS_SECRET_ACCESS_KEY]) expect(text).not.toContain(v);
  });
  it("refuses an extra that carries a secret of the user's", () => {
    expect(() => agentEnv(base, { OPENAI_API_KEY: base.OPENAI_API_KEY })).toThrow(/OPENAI_API_KEY/);
    expect(() => agentEnv(base, { X_URL: `${CANARY}/chat` })).toThrow(/X_URL/);
    expect(() => agentEnv(base, { CTO_HARNESS_CASE_LOCAL_BASE_URL: "http://x" })).toThrow();
    try {
      agentEnv(base, { X_URL: `${CANARY}/chat` });
    } catch (e) {
      expect(String(e)).not.toContain("canary-pass");
    }
  });
});
