import { describe, expect, it } from "vitest";
import { transition, type WatchEvent, type WatchState } from "../../src/watch/state-machine.js";

const change: WatchEvent = { type: "change", path: "story.yaml" };
const elapsed: WatchEvent = { type: "debounce-elapsed" };
const finished: WatchEvent = { type: "build-finished" };

function run(events: WatchEvent[], cancellable: boolean): Array<[WatchState, string[]]> {
  let state: WatchState = "idle";
  return events.map((e) => {
    const next = transition(state, e, { cancellable });
    state = next.state;
    return [state, next.effects];
  });
}

describe("the watcher's state machine", () => {
  it("debounces saves, then builds once", () => {
    expect(run([change, change, change, elapsed, finished], true)).toEqual([
      ["debouncing", ["start-debounce"]],
      ["debouncing", ["start-debounce"]],
      ["debouncing", ["start-debounce"]],
      ["building", ["start-build"]],
      ["idle", []],
    ]);
  });

  it("a save during a local build cancels it and builds again after a debounce", () => {
    expect(run([change, elapsed, change, change, finished, elapsed, finished], true)).toEqual([
      ["debouncing", ["start-debounce"]],
      ["building", ["start-build"]],
      ["cancelling", ["cancel-build"]],
      ["cancelling", []],
      ["debouncing", ["start-debounce"]],
      ["building", ["start-build"]],
      ["idle", []],
    ]);
  });

  it("a save during a paid cloud build never cancels it: one more build follows", () => {
    expect(run([change, elapsed, change, change, finished, elapsed, finished], false)).toEqual([
      ["debouncing", ["start-debounce"]],
      ["building", ["start-build"]],
      ["queued", []],
      ["queued", []],
      ["debouncing", ["start-debounce"]],
      ["building", ["start-build"]],
      ["idle", []],
    ]);
  });

  it("stopping ends a running build, and nothing happens after", () => {
    expect(transition("building", { type: "stop" }, { cancellable: false })).toEqual({ state: "stopped", effects: ["stop-build"] });
    expect(transition("idle", { type: "stop" }, { cancellable: true })).toEqual({ state: "stopped", effects: [] });
    expect(transition("stopped", change, { cancellable: true })).toEqual({ state: "stopped", effects: [] });
  });

  it("ignores events that mean nothing in a state", () => {
    expect(transition("idle", finished, { cancellable: true }).state).toBe("idle");
    expect(transition("idle", elapsed, { cancellable: true }).state).toBe("idle");
    expect(transition("building", elapsed, { cancellable: true }).state).toBe("building");
  });
});
