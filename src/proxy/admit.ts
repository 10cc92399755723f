// Admission of one request at the proxy: the body read (capped: it must be read to see its
// model), the per-run token checked in constant time, the model checked against the admitted
// one (admission-gate.ts, pure). A refused request is answered here and never goes upstream.
import type http from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import { apiSuffix } from "./upstream-url.ts";
import { decideAdmission, readRequestFacts } from "./admission-gate.ts";
import type { ModelRequestRecord } from "./record.ts";
import { headerValue, sendError } from "./http-util.ts";

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export interface AdmissionRules {
  /** sha256 of `Bearer <token>`. */
  tokenDigest: Buffer;
  admittedModel: string;
  maxRequestBytes: number;
}

function authorized(header: string | undefined, tokenDigest: Buffer): boolean {
  if (!header) return false;
  return timingSafeEqual(sha256(header.trim()), tokenDigest);
}

interface Refusal {
  status: number;
  reason: string;
  message: string;
  type: string;
  code: string;
}

function refuse(res: http.ServerResponse, record: ModelRequestRecord, r: Refusal, closeConnection = false): null {
  record.refused = true;
  record.refusal_reason = r.reason;
  record.status = r.status;
  record.bytes = sendError(res, r.status, r.message, r.type, r.code, closeConnection);
  return null;
}

/** The request's body when it may go upstream; null when it was refused or the agent went away (the record says which). */
export async function admitRequest(rules: AdmissionRules, req: http.IncomingMessage, res: http.ServerResponse, record: ModelRequestRecord): Promise<Buffer | null> {
  const body = await readBody(req, rules.maxRequestBytes);
  if (body === "aborted") {
    record.status = 499;
    record.client_aborted = true;
    return null;
  }
  if (body === "too-large") {
    const message = `request body exceeds ${rules.maxRequestBytes} bytes; cto-harness refused the request`;
    return refuse(res, record, { status: 413, reason: "request body too large", message, type: "invalid_request_error", code: "request_too_large" }, true);
  }
  const facts = readRequestFacts(body, headerValue(req.headers["content-encoding"]));
  record.model = facts.model;
  record.stream = facts.stream;
  if (!authorized(headerValue(req.headers.authorization), rules.tokenDigest)) {
    const message = "missing or invalid proxy token: send 'Authorization: Bearer <token>' with the token cto-harness gave this run (OPENAI_API_KEY)";
    return refuse(res, record, { status: 401, reason: "missing or invalid proxy token", message, type: "invalid_request_error", code: "invalid_api_key" });
  }
  const decision = decideAdmission(apiSuffix(record.path), facts, rules.admittedModel);
  if (!decision.admit) return refuse(res, record, { ...decision, type: decision.code });
  return body;
}

/** Reads the whole request body (it is needed to check the model), up to a cap. */
function readBody(req: http.IncomingMessage, cap: number): Promise<Buffer | "aborted" | "too-large"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settledAs: Buffer | "aborted" | "too-large" | null = null;
    const settle = (value: Buffer | "aborted" | "too-large"): void => {
      if (settledAs !== null) return;
      settledAs = value;
      resolve(value);
    };
    req.on("data", (chunk: Buffer) => {
      if (settledAs !== null) return;
      size += chunk.length;
      if (size > cap) {
        chunks.length = 0;
        settle("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => settle(Buffer.concat(chunks, size)));
    req.on("error", () => settle("aborted"));
    req.on("close", () => {
      if (!req.complete) settle("aborted");
    });
  });
}
