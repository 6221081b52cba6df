/**
 * A queue URL as it may be printed: the password (and user) replaced. Its own
 * module, free of ioredis, so that every build's command line can be redacted
 * without loading the Redis client.
 */
export function redactQueueUrl(spec: string): string {
  try {
    const url = new URL(spec);
    if (!url.password && !url.username) return spec;
    url.username = url.username ? "***" : "";
    url.password = url.password ? "***" : "";
    return url.toString();
  } catch {
    return spec;
  }
}
