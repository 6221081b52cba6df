import { bounded } from "./render-control.js";

/**
 * Waits on a condition that only changes when something happens (output
 * arrives, an event is recorded): the source calls `notify()`, and each wait
 * re-checks then, with a bound, instead of polling on a timer.
 */
export class Changes {
  private readonly checks = new Set<() => void>();

  notify(): void {
    for (const check of [...this.checks]) check();
  }

  until(pred: () => boolean, what: string, timeoutMs = 30_000, detail: () => string = () => ""): Promise<void> {
    let check: () => void = () => undefined;
    const met = new Promise<void>((resolve) => {
      check = () => {
        if (!pred()) return;
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
      check();
    });
    return bounded(met, timeoutMs, what).catch((error: Error) => {
      this.checks.delete(check);
      const more = detail();
      throw new Error(more ? `${error.message}; output:\n${more}` : error.message);
    });
  }
}
