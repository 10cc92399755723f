// DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol v1): the
// pre-authentication encoding and the envelope's JSON shape. Pure: no keys, no files.
import { z } from "zod";

/** The payload type of an in-toto Statement inside DSSE (in-toto attestation spec, envelope layer). */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the byte
 * length in ASCII decimal without leading zeros. This, never the payload itself, is what is
 * signed: it binds the payload type, so a signature cannot be replayed under another type.
 */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Standard base64 (DSSE allows URL-safe too; we write standard and accept both on reading). */
const Base64Text = z.string().refine((s) => BASE64.test(s.replace(/-/g, "+").replace(/_/g, "/")), "not base64");

export const DsseSignature = z.object({ keyid: z.string(), sig: Base64Text }).strict();

/**
 * The envelope as JSON. Strict: an unknown member is refused, so the file (which the manifest
 * cannot cover, being the signature over it) is no place to carry anything else.
 */
export const DsseEnvelope = z
  .object({
    payload: Base64Text,
    payloadType: z.string(),
    signatures: z.array(DsseSignature).min(1).max(16),
  })
  .strict();
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

export function decodeBase64(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

export function makeEnvelope(payloadType: string, payload: Buffer, signatures: { keyid: string; sig: Buffer }[]): DsseEnvelope {
  return {
    payload: payload.toString("base64"),
    payloadType,
    signatures: signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString("base64") })),
  };
}
