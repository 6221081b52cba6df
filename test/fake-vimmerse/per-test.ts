import { afterEach, beforeEach } from "vitest";
import { FakeVimmerse, type FakeOptions } from "./server.js";

/**
 * A fresh fake Story API for each test of the calling file, and the
 * environment that points storyc at it (polling fast, as tests need).
 */
export function fakeVimmersePerTest(options: FakeOptions = {}): { readonly api: FakeVimmerse; env(): Record<string, string> } {
  let api: FakeVimmerse | undefined;
  beforeEach(async () => {
    api = new FakeVimmerse(options);
    await api.start();
  });
  afterEach(async () => {
    await api?.stop();
  });
  return {
    get api() {
      if (!api) throw new Error("the fake API runs only inside a test");
      return api;
    },
    env() {
      return { VIMMERSE_API_KEY: this.api.key, VIMMERSE_API_URL: this.api.url, STORYC_VIMMERSE_POLL_MS: "5" };
    },
  };
}
