import { errors as undiciErrors, FormData, request, type Dispatcher } from "undici";

import { TransientError, withRetries } from "./retry.js";

export const DEFAULT_API_URL = "https://api.vimmerse.net";

/** The story object the API returns (the fields storyc reads). */
export interface ApiStory {
  id: string;
  status: string;
  progress_percentage?: number;
  storyboard?: ApiStoryboard;
  scenes?: unknown[];
  medias?: unknown[];
  video_url?: string;
  updated_at?: string;
  title?: string;
  /** Credits the story has cost so far, as the API counts them. */
  used_credits?: number;
  failed_medias?: unknown[];
  [key: string]: unknown;
}

export interface ApiElement {
  name: string;
  description?: string;
  image_url?: string | null;
  /** The OpenAPI example of /elements returns element images here. */
  URL?: string | null;
  [key: string]: unknown;
}

export interface ApiScene {
  name?: string;
  title?: string;
  description?: string;
  image_description?: string;
  narrator?: string;
  motion_description?: string;
  video_description?: string;
  image_url?: string | null;
  narration_url?: string | null;
  video_url?: string | null;
  [key: string]: unknown;
}

export interface ApiStoryboard {
  characters?: ApiElement[];
  environments?: ApiElement[];
  objects?: ApiElement[];
  music?: { description?: string; lyrics?: string; music_url?: string | null };
  title_scene?: { title?: string; description?: string };
  scenes?: ApiScene[];
  [key: string]: unknown;
}

export type ApiFailureKind = "auth" | "credit" | "invalid" | "not-found" | "malformed" | "unavailable";

/** A failure of the Story API, with the API's own detail and never the key. */
export class VimmerseApiError extends Error {
  constructor(
    readonly kind: ApiFailureKind,
    message: string,
    readonly status: number | null,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  apiKey: string;
  baseUrl?: string;
  /** Per-request time limit in ms. */
  timeoutMs?: number;
  /** Attempts for a request that fails in a way worth retrying. */
  attempts?: number;
  /** First backoff in ms; doubled each attempt, with jitter. */
  backoffMs?: number;
  dispatcher?: Dispatcher;
  /** Told of each retry (for progress output); never given the key. */
  onRetry?: (info: { method: string; path: string; attempt: number; delayMs: number; reason: string }) => void;
}

type Fields = Record<string, string | number | boolean | string[] | undefined>;

/**
 * The Vimmerse Story API over undici: form bodies (multipart where the
 * OpenAPI description says so), the key in X-Api-Key, a time limit on every
 * request, and retries (withRetries: exponential backoff with jitter, and
 * Retry-After) for 429, 5xx, resets, time-outs and garbled answers to GETs. Requests that cost credits are never retried here:
 * a lost answer may hide work that was paid for, which the renderer settles
 * by looking at the story before it asks again.
 */
export class VimmerseClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.attempts = options.attempts ?? 5;
    this.backoffMs = options.backoffMs ?? 500;
  }

  createStory(fields: { idea: string; title?: string; scene_count?: number; language?: string; aspect_ratio?: string; audio_option?: string; elements?: string; story_id?: string }, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("POST", "/story", { multipart: fields, paid: true, signal });
  }

  ideaToVideo(body: Record<string, unknown>, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("POST", "/story/idea-2-video", { json: body, paid: true, signal });
  }

  generateElements(id: string, fields: { option?: string; aspect_ratio?: string; storyboard?: string; enhance_image?: boolean; seed?: number }, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("POST", `/story/${encodeURIComponent(id)}/elements`, { form: fields, paid: true, signal });
  }

  generateScenes(id: string, fields: { option?: string; aspect_ratio?: string; storyboard?: string; audio_option?: string; enhance_image?: boolean; seed?: number }, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("POST", `/story/${encodeURIComponent(id)}/scenes`, { form: fields, paid: true, signal });
  }

  generateVideos(
    id: string,
    fields: { title?: string; storyboard?: string; is_transition?: boolean; motion_type?: string; duration?: number; loop?: number; webhook_url?: string },
    signal?: AbortSignal,
  ): Promise<ApiStory> {
    return this.call("POST", `/story/${encodeURIComponent(id)}/videos`, { form: fields, paid: true, signal });
  }

  concat(id: string, fields: { concat_video_urls?: string[]; audio_urls?: string[] }, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("POST", `/story/${encodeURIComponent(id)}/concat`, { form: fields, paid: true, signal });
  }

  getStory(id: string, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("GET", `/story/${encodeURIComponent(id)}`, { signal });
  }

  updateStory(id: string, fields: { title?: string; description?: string; visibility_status?: "0" | "1" | "2" }, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("PUT", `/story/${encodeURIComponent(id)}`, { form: fields, signal });
  }

  deleteStory(id: string, signal?: AbortSignal): Promise<ApiStory> {
    return this.call("DELETE", `/story/${encodeURIComponent(id)}`, { signal });
  }

  private async call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    options: { form?: Fields; multipart?: Fields; json?: unknown; paid?: boolean; signal?: AbortSignal | undefined },
  ): Promise<ApiStory> {
    try {
      return await withRetries(
        async () => {
          options.signal?.throwIfAborted();
          let outcome: { retry: false; story: ApiStory } | { retry: true; reason: string; afterMs?: number };
          try {
            outcome = await this.once(method, path, options);
          } catch (error) {
            if (options.signal?.aborted) throw options.signal.reason ?? error;
            if (error instanceof VimmerseApiError) throw error;
            const reason = transportReason(error);
            if (options.paid && !(error instanceof undiciErrors.ConnectTimeoutError) && !isRefused(error)) {
              // The request may have reached the API: the caller decides whether the work started.
              throw new VimmerseApiError("unavailable", `${method} ${path}: ${reason}`, null, "the request may have been received; storyc checks the story before asking again");
            }
            throw new TransientError(reason);
          }
          if (outcome.retry) throw new TransientError(outcome.reason, outcome.afterMs);
          return outcome.story;
        },
        {
          attempts: this.attempts,
          backoffMs: this.backoffMs,
          signal: options.signal,
          onRetry: ({ attempt, reason, delayMs }) => this.options.onRetry?.({ method, path, attempt, delayMs, reason }),
        },
      );
    } catch (error) {
      if (error instanceof TransientError) {
        throw new VimmerseApiError("unavailable", `${method} ${path} failed ${this.attempts} times: ${error.reason}`, null, "the Story API is unavailable or overloaded; try again later");
      }
      throw error;
    }
  }

  private async once(
    method: string,
    path: string,
    options: { form?: Fields; multipart?: Fields; json?: unknown; paid?: boolean; signal?: AbortSignal | undefined },
  ): Promise<{ retry: false; story: ApiStory } | { retry: true; reason: string; afterMs?: number }> {
    const headers: Record<string, string> = { "x-api-key": this.options.apiKey, accept: "application/json" };
    let body: string | FormData | undefined;
    if (options.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = urlEncode(options.form);
    } else if (options.multipart) {
      body = new FormData();
      for (const [k, v] of Object.entries(options.multipart)) {
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) body.append(k, String(item));
      }
    } else if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const response = await request(`${this.baseUrl}${path}`, {
      method: method as Dispatcher.HttpMethod,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
    });
    const text = await response.body.text();
    const status = response.statusCode;
    if (status === 429 || (status >= 500 && !(options.paid && status === 500))) {
      const retryAfter = parseRetryAfter(response.headers["retry-after"]);
      return { retry: true, reason: `HTTP ${status}`, ...(retryAfter !== undefined ? { afterMs: retryAfter } : {}) };
    }
    if (status >= 500) {
      throw new VimmerseApiError("unavailable", `${method} ${path}: HTTP ${status}${detailOf(text) ? `: ${detailOf(text)}` : ""}`, status, "the request may have been received; storyc checks the story before asking again");
    }
    if (status === 401 || status === 403) {
      throw new VimmerseApiError("auth", `the Story API refused the key (HTTP ${status})`, status, "set VIMMERSE_API_KEY to a valid key from your Vimmerse account");
    }
    if (status === 402) {
      throw new VimmerseApiError("credit", `not enough credit for ${method} ${path}${detailOf(text) ? `: ${detailOf(text)}` : ""}`, status, "add credit to your Vimmerse account");
    }
    if (status === 404) throw new VimmerseApiError("not-found", `${method} ${path}: not found${detailOf(text) ? `: ${detailOf(text)}` : ""}`, status, "the story may have been deleted on Vimmerse; delete its ids from the lockfile's nodes to start a new one");
    if (status >= 400) throw new VimmerseApiError("invalid", `${method} ${path} was rejected (HTTP ${status}): ${detailOf(text) ?? "no detail"}`, status, "this is a storyc bug if the story validates; please report it with the detail");
    // A GET asks again for what it read: a garbled answer is a transient fault like a reset.
    // A paid request's garbled answer is not retried: it may hide work that was paid for.
    const idempotent = method === "GET";
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (idempotent) return { retry: true, reason: "the answer is not JSON" };
      throw new VimmerseApiError("malformed", `${method} ${path}: the answer is not JSON (${text.slice(0, 60).replace(/\s+/g, " ")}…)`, status, "the Story API answered with something unexpected; try again later");
    }
    const data = (parsed as { data?: unknown })?.data;
    if (!data || typeof data !== "object" || typeof (data as ApiStory).id !== "string") {
      if (idempotent) return { retry: true, reason: "the answer has no story object" };
      throw new VimmerseApiError("malformed", `${method} ${path}: the answer has no story object`, status, "the Story API answered with something unexpected; try again later");
    }
    return { retry: false, story: data as ApiStory };
  }
}

function urlEncode(fields: Fields): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  return params.toString();
}

/** The API's own words for a failure: FastAPI's `detail`, as text or a list of validation errors. */
export function detailOf(text: string): string | undefined {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).filter((l) => l !== "body").join(".")}: ${d.msg ?? "invalid"}`).join("; ");
    }
  } catch {
    // not JSON
  }
  return text.trim() ? text.trim().slice(0, 200) : undefined;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.min(seconds, 300) * 1000;
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, Math.min(date - Date.now(), 300_000)) : undefined;
}

function isRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === "ECONNREFUSED" || (error as { cause?: NodeJS.ErrnoException })?.cause?.code === "ECONNREFUSED";
}

function transportReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (e?.name === "TimeoutError" || e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) return "timed out";
  const code = e?.code ?? e?.cause?.code;
  return code ? `connection failed (${code})` : `connection failed (${e?.message ?? String(error)})`;
}
