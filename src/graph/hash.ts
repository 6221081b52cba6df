import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import canonicalizeModule from "canonicalize";

// canonicalize is CommonJS (module.exports = fn) while its types declare an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** sha256 over the RFC 8785 canonical JSON of a value: same data, same hash, whatever the key order. */
export function hashJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value cannot be hashed as JSON");
  return sha256(text);
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}
