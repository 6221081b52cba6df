import type { SlotRequest } from "../render/types.js";

interface Lease {
  node: string;
  state: "asked" | "granted" | "released";
  grant: () => void;
}

/**
 * Job slots lent to running nodes for work beside their own
 * (RenderInput.extraSlot). The executor grants them as it starts nodes, each
 * request at the asking node's place in its order, so the engine alone still
 * decides what runs when, and never more than its slots at once.
 */
export class ExtraSlots {
  private readonly leases = new Set<Lease>();
  private wake: (() => void) | null = null;

  /** Slots lent out now. */
  get inUse(): number {
    let granted = 0;
    for (const lease of this.leases) if (lease.state === "granted") granted++;
    return granted;
  }

  /** Whether the node waits for a slot. */
  asking(node: string): boolean {
    for (const lease of this.leases) if (lease.node === node && lease.state === "asked") return true;
    return false;
  }

  /** Lends a slot to the node's oldest waiting request. */
  grant(node: string): void {
    for (const lease of this.leases) {
      if (lease.node !== node || lease.state !== "asked") continue;
      lease.state = "granted";
      lease.grant();
      return;
    }
  }

  request(node: string): SlotRequest {
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => (grant = resolve));
    const lease: Lease = { node, state: "asked", grant };
    this.leases.add(lease);
    this.changed();
    return { granted, release: () => this.release(lease) };
  }

  /** The node is done: what it asked for is withdrawn and what it was lent comes back. */
  drop(node: string): void {
    for (const lease of [...this.leases]) if (lease.node === node) this.release(lease);
  }

  /** Resolves at the next request or release, when the executor should look again for work to start. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private release(lease: Lease): void {
    if (lease.state === "released") return;
    lease.state = "released";
    this.leases.delete(lease);
    this.changed();
  }

  private changed(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
