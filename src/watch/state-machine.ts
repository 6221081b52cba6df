/**
 * The watcher's states. A save starts a short debounce; the build starts when
 * saves stop; a save during a build cancels it when the renderer can be
 * cancelled (a local render), or queues one more build when it cannot (a paid
 * cloud job is never cancelled: the work is already paid for).
 */
export type WatchState = "idle" | "debouncing" | "building" | "queued" | "cancelling" | "stopped";

export type WatchEvent =
  | { type: "change"; path: string }
  | { type: "debounce-elapsed" }
  | { type: "build-finished" }
  | { type: "stop" };

export type WatchEffect = "start-debounce" | "start-build" | "cancel-build" | "stop-build";

export interface Transition {
  state: WatchState;
  effects: WatchEffect[];
}

export function transition(state: WatchState, event: WatchEvent, options: { cancellable: boolean }): Transition {
  if (event.type === "stop") return { state: "stopped", effects: state === "building" || state === "queued" || state === "cancelling" ? ["stop-build"] : [] };
  switch (state) {
    case "idle":
      return event.type === "change" ? { state: "debouncing", effects: ["start-debounce"] } : { state, effects: [] };
    case "debouncing":
      if (event.type === "change") return { state, effects: ["start-debounce"] };
      if (event.type === "debounce-elapsed") return { state: "building", effects: ["start-build"] };
      return { state, effects: [] };
    case "building":
      if (event.type === "change") return options.cancellable ? { state: "cancelling", effects: ["cancel-build"] } : { state: "queued", effects: [] };
      if (event.type === "build-finished") return { state: "idle", effects: [] };
      return { state, effects: [] };
    case "queued":
    case "cancelling":
      // More saves change nothing: one build follows once this one has stopped.
      if (event.type === "build-finished") return { state: "debouncing", effects: ["start-debounce"] };
      return { state, effects: [] };
    case "stopped":
      return { state, effects: [] };
  }
}
