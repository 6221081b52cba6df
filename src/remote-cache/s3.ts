import { createReadStream, createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { atMost, DEFAULT_TIMEOUTS, RemoteStoreError, type RemotePath, type RemoteStore, type RemoteTimeouts } from "./store.js";

/**
 * `s3://bucket/prefix` with the AWS SDK v3: S3, R2, MinIO and other
 * S3-compatible stores. Credentials come from the SDK's own chain (the
 * environment, profiles, instance roles); AWS_ENDPOINT_URL points it at
 * a store other than AWS, addressed by path as those stores expect.
 */
export class S3Store implements RemoteStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(url: string, env: NodeJS.ProcessEnv, timeouts: RemoteTimeouts = DEFAULT_TIMEOUTS) {
    const parsed = new URL(url);
    this.bucket = parsed.hostname;
    this.prefix = parsed.pathname.replace(/^\/+|\/+$/g, "");
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ""}`;
    const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const config: S3ClientConfig = {
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
      maxAttempts: 2,
      // The SDK's default CRC32 trailer sends a streamed body aws-chunked, which several
      // S3-compatible stores keep as it is; storyc checks every blob's sha256 itself.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: { connectionTimeout: timeouts.connectMs, requestTimeout: timeouts.requestMs },
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    };
    // The SDK's chain reads process.env; a programmatic caller may hand storyc another environment.
    if (env !== process.env && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      };
    }
    // The SDK warns on Node 20 that its releases of 2027 will need Node 22. storyc's lockfile
    // pins the SDK, so the warning asks the user for nothing; it would only break clean build output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client = new S3Client(config);
  }

  private key(path: RemotePath): string {
    return this.prefix ? `${this.prefix}/${path}` : path;
  }

  async get(path: RemotePath): Promise<Buffer | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure("GET", path, error);
    }
  }

  async download(path: RemotePath, file: string, limit: number): Promise<boolean> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      await pipeline(out.Body as Readable, atMost(limit), createWriteStream(file));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.failure("GET", path, error);
    }
  }

  async upload(path: RemotePath, file: string, size: number): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: createReadStream(file), ContentLength: size }));
    } catch (error) {
      throw this.failure("PUT", path, error);
    }
  }

  async has(path: RemotePath): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.failure("HEAD", path, error);
    }
  }

  async put(path: RemotePath, body: Buffer): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: body, ContentLength: body.length }));
    } catch (error) {
      throw this.failure("PUT", path, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** The SDK's error name and status only: its messages can quote request details. */
  private failure(method: string, path: RemotePath, error: unknown): RemoteStoreError {
    const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const status = e?.$metadata?.httpStatusCode;
    const refused = method === "PUT" && (status === 401 || status === 403 || e?.name === "AccessDenied");
    const why = [e?.name ?? e?.code ?? "error", status ? `(${status})` : ""].filter(Boolean).join(" ");
    return new RemoteStoreError(refused ? "refused" : "unavailable", `${method} ${this.location}/${path.split("/")[0]} failed: ${why}`);
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
