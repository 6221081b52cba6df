import { describe, expect, it } from "vitest";
import { build } from "../../src/engine/build.js";
import { ExtraSlots } from "../../src/engine/extra-slots.js";
import { TestRenderer } from "../../src/render/test-renderer.js";
import type { RenderInput, RenderResult, SlotRequest } from "../../src/render/types.js";
import { copyExample } from "../helpers/story-dir.js";

/**
 * A renderer whose clip for one scene asks the engine for a second slot and
 * holds it until that slot is granted, as the local renderer's clip encodes
 * its second piece beside its first. It counts the slots in use (nodes
 * rendering plus slots lent) at every step.
 */
class LendingRenderer extends TestRenderer {
  /** Slots in use at each start, grant and end. */
  readonly inUse: number[] = [];
  /** Nodes still rendering when the slot was granted. */
  grantedBeside: string[] | null = null;
  offered = false;
  private readonly active = new Set<string>();
  private lent = 0;

  constructor(
    private readonly asker: string,
    private readonly withdraw = false,
  ) {
    super();
  }

  private note(): void {
    this.inUse.push(this.active.size + this.lent);
  }

  override async render(input: RenderInput): Promise<RenderResult> {
    const id = input.node.id;
    this.active.add(id);
    this.note();
    try {
      if (id === this.asker) {
        const request: SlotRequest = input.extraSlot!();
        this.offered = true;
        if (this.withdraw) {
          request.release();
          void request.granted.then(() => (this.grantedBeside = ["granted after it was withdrawn"]));
        } else {
          await request.granted;
          this.lent++;
          this.grantedBeside = [...this.active].filter((a) => a !== id);
          this.note();
          // Held over turns of the event loop, in which the engine could wrongly start another node.
          for (let turn = 0; turn < 50; turn++) {
            await new Promise((resolve) => setImmediate(resolve));
            this.note();
          }
          this.lent--;
          request.release();
          // Once more: harmless.
          request.release();
        }
      }
      return await super.render(input);
    } finally {
      this.active.delete(id);
      this.note();
    }
  }
}

describe("slots the engine lends to a running node", () => {
  it("are granted once a slot is free, and never put more to work than --jobs", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    const renderer = new LendingRenderer("scene/introduction/clip");
    const result = await build(story, { renderer, jobs: 2 });
    expect(result.ok).toBe(true);
    expect(renderer.offered).toBe(true);
    // Granted while at most one other node rendered: the asker and the lent slot make two.
    expect(renderer.grantedBeside).not.toBeNull();
    expect(renderer.grantedBeside).toEqual([]);
    expect(Math.max(...renderer.inUse)).toBeLessThanOrEqual(2);
    expect(renderer.calls).toContain("video");
  }, 60_000);

  it("are never granted with one job, and a withdrawn request holds up nothing", async () => {
    const { story } = await copyExample("suited-man", "suited-man.yaml");
    const renderer = new LendingRenderer("scene/introduction/clip", true);
    const result = await build(story, { renderer, jobs: 1 });
    expect(result.ok).toBe(true);
    expect(renderer.offered).toBe(true);
    expect(renderer.grantedBeside).toBeNull();
    expect(Math.max(...renderer.inUse)).toBe(1);
    expect(renderer.calls).toContain("video");
  }, 60_000);
});

describe("the engine's ledger of lent slots", () => {
  it("counts a slot from its grant to its release, and gives back what a finished node forgot", async () => {
    const slots = new ExtraSlots();
    const a = slots.request("a");
    const b = slots.request("b");
    expect(slots.asking("a")).toBe(true);
    slots.grant("a");
    await a.granted;
    expect(slots.inUse).toBe(1);
    expect(slots.asking("a")).toBe(false);
    b.release();
    expect(slots.asking("b")).toBe(false);
    slots.grant("b");
    expect(slots.inUse).toBe(1);
    // "a" ends without releasing: the engine drops what it held.
    slots.drop("a");
    expect(slots.inUse).toBe(0);
    a.release();
    expect(slots.inUse).toBe(0);
  });

  it("wakes the engine when a node asks or gives back", async () => {
    const slots = new ExtraSlots();
    const woken = slots.next();
    const request = slots.request("a");
    await woken;
    slots.grant("a");
    const again = slots.next();
    request.release();
    await again;
    expect(slots.inUse).toBe(0);
  });
});
