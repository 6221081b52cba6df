/**
 * A cache URL as it may be printed: without user, password or query (a
 * presigned URL carries its signature there). Anything that is not a URL
 * (a folder) is printed as it is.
 */
export function redactUrl(spec: string): string {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return spec;
  }
  if (!/^(https?|s3):$/.test(url.protocol)) return spec;
  const auth = url.username || url.password ? "***@" : "";
  return `${url.protocol}//${auth}${url.host}${url.pathname.replace(/\/+$/, "")}${url.search ? "?***" : ""}`;
}

/** Replaces every occurrence of the given secrets in a text: a last guard before a message leaves the module. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("***");
  return out;
}
