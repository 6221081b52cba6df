import { parentPort, workerData } from "node:worker_threads";
import { NoSuchVoiceError, synthesize } from "./speech.js";
import type { SpeechReply, SpeechRequest } from "./speech-pool.js";

// A thread of the speech pool: it speaks the lines it is sent, one after the other.
const module = (workerData as { module: WebAssembly.Module }).module;
const port = parentPort!;
port.on("message", (request: SpeechRequest) => {
  synthesize(module, request.text, request.voice).then(
    (pcm) => port.postMessage({ id: request.id, sampleRate: pcm.sampleRate, samples: pcm.samples } satisfies SpeechReply, [pcm.samples.buffer as ArrayBuffer]),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
        ...(error instanceof NoSuchVoiceError ? { noVoice: error.voice } : {}),
      } satisfies SpeechReply),
  );
});
