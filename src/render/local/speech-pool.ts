import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { NoSuchVoiceError } from "./speech.js";
import type { Pcm } from "./wav.js";

export interface SpeechRequest {
  id: number;
  text: string;
  voice: string;
}

/** `noVoice`: the line failed for want of its voice (NoSuchVoiceError), which the caller words for the user. */
export type SpeechReply = { id: number; sampleRate: number; samples: Float32Array } | { id: number; error: string; noVoice?: string };

interface Pending {
  resolve: (pcm: Pcm) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Ends the thread once it has stayed idle for IDLE_MS, unless the pool is kept warm. */
  idle?: NodeJS.Timeout;
}

/**
 * A thread holds some 90 MB (its synthesizer's instance and the copy of the
 * first state each line starts from): one left idle by a build is ended, so
 * that the clips and the video that follow the narrations have that memory.
 */
const IDLE_MS = 1000;

/**
 * Worker threads that speak lines (speech-worker.ts), each with its own
 * instance of the compiled synthesizer. A thread with nothing to say does not
 * keep storyc running; one that dies fails only the lines it held.
 */
class SpeechPool {
  private threads: Thread[] = [];
  private next = 0;
  /** Set by warm(): storyc watch keeps its threads for the next save. */
  private kept = false;

  constructor(
    private readonly entry: URL,
    private readonly size: number,
  ) {}

  speak(module: WebAssembly.Module, text: string, voice: string, signal?: AbortSignal): Promise<Pcm> {
    return this.ask(this.thread(module), text, voice, signal);
  }

  private ask(thread: Thread, text: string, voice: string, signal?: AbortSignal): Promise<Pcm> {
    const id = this.next++;
    return new Promise<Pcm>((resolve, reject) => {
      const onAbort = () => settle(() => reject(signal!.reason as Error));
      const settle = (done: () => void) => {
        if (!thread.pending.delete(id)) return;
        signal?.removeEventListener("abort", onAbort);
        if (thread.pending.size === 0) this.rest(thread);
        done();
      };
      thread.pending.set(id, { resolve: (pcm) => settle(() => resolve(pcm)), reject: (error) => settle(() => reject(error)) });
      signal?.addEventListener("abort", onAbort, { once: true });
      clearTimeout(thread.idle);
      thread.worker.ref();
      thread.worker.postMessage({ id, text, voice } satisfies SpeechRequest);
    });
  }

  /**
   * Starts every thread and has each speak a word, discarded: a thread's first
   * line otherwise also pays for its start and for compiling the synthesizer's
   * JavaScript. Changes no output (each line starts from the synthesizer's first state).
   */
  async warm(module: WebAssembly.Module): Promise<void> {
    this.kept = true;
    while (this.threads.length < this.size) this.start(module);
    await Promise.all(this.threads.map((thread) => this.ask(thread, "ready", "en")));
  }

  /** A thread with nothing to say does not keep storyc running, and ends after IDLE_MS unless the pool is kept warm. */
  private rest(thread: Thread): void {
    thread.worker.unref();
    if (this.kept) return;
    clearTimeout(thread.idle);
    thread.idle = setTimeout(() => {
      if (thread.pending.size > 0) return;
      this.threads = this.threads.filter((t) => t !== thread);
      void thread.worker.terminate();
    }, IDLE_MS);
    thread.idle.unref();
  }

  /** The thread with the fewest lines to say, started if the pool is not full. */
  private thread(module: WebAssembly.Module): Thread {
    const idle = this.threads.find((t) => t.pending.size === 0);
    if (idle) return idle;
    if (this.threads.length < this.size) return this.start(module);
    return this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  private start(module: WebAssembly.Module): Thread {
    const worker = new Worker(this.entry, { workerData: { module } });
    const thread: Thread = { worker, pending: new Map() };
    worker.unref();
    worker.on("message", (reply: SpeechReply) => {
      const waiting = thread.pending.get(reply.id);
      if (!waiting) return;
      if ("error" in reply) waiting.reject(reply.noVoice ? new NoSuchVoiceError(reply.noVoice) : new Error(reply.error));
      else waiting.resolve({ sampleRate: reply.sampleRate, samples: reply.samples });
    });
    const fail = (error: Error) => {
      this.threads = this.threads.filter((t) => t !== thread);
      for (const p of [...thread.pending.values()]) p.reject(new Error(`the speech synthesizer's thread stopped: ${error.message}`));
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
    this.threads.push(thread);
    return thread;
  }
}

let pool: SpeechPool | null | undefined;

/**
 * The process's speech threads: one beside storyc's own thread on two cores,
 * two on more (each holds some 90 MB). None when storyc runs from
 * its TypeScript sources, where no compiled worker exists: lines are then
 * spoken in the calling thread, with the same samples.
 */
export function speechPool(): SpeechPool | null {
  if (pool !== undefined) return pool;
  const entry = new URL("./speech-worker.js", import.meta.url);
  pool = existsSync(fileURLToPath(entry)) ? new SpeechPool(entry, Math.max(1, Math.min(2, availableParallelism() - 1))) : null;
  return pool;
}
