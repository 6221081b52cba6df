import { createHmac, timingSafeEqual } from "node:crypto";
import canonicalizeModule from "canonicalize";
import type { StoredOutput } from "../lock/cache.js";
import type { RemoteRecord } from "../lock/lockfile.js";

/** What the team cache holds per node key: the outputs' addresses and facts, and any paid remote work. */
export interface ActionEntry {
  outputs: StoredOutput[];
  meta: Record<string, string | number | boolean>;
  remote?: RemoteRecord;
}

// canonicalize is CommonJS (module.exports = fn) while its types declare an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

const FORMAT = 1;
const SHA256 = /^[0-9a-f]{64}$/;
/** Output names become file names in out/: nothing that could climb out of a folder. */
const SAFE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

/**
 * The bytes stored at `ac/<key>`: JSON, signed with HMAC-SHA256 when a
 * signing key is set. The signature covers the node key too, so an entry
 * cannot be replayed under another key.
 */
export function encodeEntry(key: string, entry: ActionEntry, signingKey: string | undefined): Buffer {
  const body = { storyc: FORMAT, key, outputs: entry.outputs.map(({ name, sha256, size }) => ({ name, sha256, size })), meta: entry.meta, ...(entry.remote ? { remote: entry.remote } : {}) };
  const signed = signingKey ? { ...body, signature: sign(body, signingKey) } : body;
  return Buffer.from(JSON.stringify(signed));
}

export type DecodedEntry = { ok: true; entry: ActionEntry } | { ok: false; reason: "malformed" | "unsigned" | "bad-signature" };

/** Reads an entry back; with a signing key, anything not signed with that key is refused. */
export function decodeEntry(key: string, bytes: Buffer, signingKey: string | undefined): DecodedEntry {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!data || data.storyc !== FORMAT || data.key !== key || !Array.isArray(data.outputs) || !isFlatRecord(data.meta)) return { ok: false, reason: "malformed" };
  if (data.remote !== undefined && !isFlatRecord(data.remote)) return { ok: false, reason: "malformed" };
  const outputs: StoredOutput[] = [];
  for (const o of data.outputs as Array<Record<string, unknown>>) {
    if (typeof o?.name !== "string" || !SAFE_NAME.test(o.name) || typeof o.sha256 !== "string" || !SHA256.test(o.sha256) || !Number.isSafeInteger(o.size) || (o.size as number) < 0) {
      return { ok: false, reason: "malformed" };
    }
    outputs.push({ name: o.name, sha256: o.sha256, size: o.size as number });
  }
  if (signingKey) {
    if (typeof data.signature !== "string") return { ok: false, reason: "unsigned" };
    const { signature, ...body } = data;
    const expected = Buffer.from(sign(body, signingKey));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad-signature" };
  }
  const remote = data.remote as RemoteRecord | undefined;
  return { ok: true, entry: { outputs, meta: data.meta as ActionEntry["meta"], ...(remote ? { remote } : {}) } };
}

function sign(body: unknown, signingKey: string): string {
  return `hmac-sha256:${createHmac("sha256", signingKey).update(canonicalize(body) ?? "").digest("hex")}`;
}

function isFlatRecord(value: unknown): value is Record<string, string | number | boolean> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean");
}
