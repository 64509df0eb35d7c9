// Ops sent but not yet answered. The store outlives a socket (ops are re-sent after every
// reconnect) and, with a persistent store, the page: the server applies a retried op_id once,
// so sending an op again is always safe, while dropping it would lose what the person did.
import type { Op } from "./types.js";

export type PendingOp = Op & {
  /** When it was queued (ms since the epoch, this device's clock): re-sent in this order. */
  queued_at: number;
};

export interface PendingStore {
  /** Every pending op, oldest first. */
  all(): Promise<PendingOp[]>;
  put(op: PendingOp): Promise<void>;
  delete(op_id: string): Promise<void>;
}

export class MemoryPendingStore implements PendingStore {
  private readonly ops = new Map<string, PendingOp>();

  async all(): Promise<PendingOp[]> {
    return [...this.ops.values()].sort((a, b) => a.queued_at - b.queued_at);
  }

  async put(op: PendingOp): Promise<void> {
    this.ops.set(op.op_id, op);
  }

  async delete(op_id: string): Promise<void> {
    this.ops.delete(op_id);
  }
}
