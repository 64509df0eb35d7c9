// Ops from the moment they are sent until the server answers them: kept in the pending store
// (so a reconnect, or the next page on a persistent store, sends them again; the server
// applies an op_id once), each caller's promise settled by the ack or the refusal.
import type { Emitter } from "./emitter.js";
import { RETRYABLE_OP_ERRORS, type AckFrame, type ErrorFrame } from "./frames.js";
import type { PendingOp, PendingStore } from "./pending.js";
import type { Timers } from "./platform.js";
import type { Op, OpAnswer, ProblemCode } from "./types.js";

/** An op the server refused (an ``error`` frame), with the contract's code. */
export class OpError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly opId: string,
  ) {
    super(detail);
    this.name = "OpError";
  }
}

export type OpOutcome =
  | { op_id: string; answer: OpAnswer; error?: undefined }
  | { op_id: string; answer?: undefined; error: OpError };

export type OutboxEvents = { pending: number; answer: OpOutcome };

type Waiter = { resolve(answer: OpAnswer): void; reject(error: Error): void };

export class Outbox {
  private readonly waiters = new Map<string, Waiter>();
  private readonly retries = new Set<unknown>();

  constructor(
    private readonly store: PendingStore,
    private readonly timers: Timers,
    private readonly emitter: Emitter<OutboxEvents>,
  ) {}

  /** Stores the op (resolved once it is stored) and gives the promise of its answer. */
  async add(op: PendingOp): Promise<{ answered: Promise<OpAnswer> }> {
    const answered = new Promise<OpAnswer>((resolve, reject) => {
      this.waiters.set(op.op_id, { resolve, reject });
    });
    await this.store.put(op);
    void this.count();
    return { answered };
  }

  /** Every op still waiting, oldest first, as the wire carries it. */
  async waiting(): Promise<Op[]> {
    return (await this.store.all()).map(onTheWire);
  }

  async acked(frame: AckFrame): Promise<void> {
    const { type: _, ...answer } = frame;
    this.emitter.emit("answer", { op_id: frame.op_id, answer });
    await this.settle(frame.op_id, (w) => w.resolve(answer));
  }

  /** A refusal: final ones settle the op; ``rate_limited`` and ``unavailable`` leave it
   * waiting (its op_id is not used up) and ``resend`` it after ``retry_after``. */
  refused(frame: ErrorFrame, resend: (op: Op) => void): void {
    const opId = frame.op_id;
    if (opId === null) return; // a frame the server could not read; ours are well-formed
    if (RETRYABLE_OP_ERRORS.has(frame.code)) {
      const handle = this.timers.setTimeout(
        async () => {
          this.retries.delete(handle);
          const op = (await this.store.all()).find((p) => p.op_id === opId);
          if (op) resend(onTheWire(op));
        },
        Math.max(1, frame.retry_after ?? 1) * 1000,
      );
      this.retries.add(handle);
      return;
    }
    const error = new OpError(frame.code, frame.detail, opId);
    this.emitter.emit("answer", { op_id: opId, error });
    void this.settle(opId, (w) => w.reject(error));
  }

  /** The socket went: every op waiting is sent again after the next welcome anyway. */
  cancelRetries(): void {
    for (const handle of this.retries) this.timers.clearTimeout(handle);
    this.retries.clear();
  }

  private async settle(opId: string, how: (w: Waiter) => void): Promise<void> {
    await this.store.delete(opId);
    const waiter = this.waiters.get(opId);
    this.waiters.delete(opId);
    if (waiter) how(waiter);
    await this.count();
  }

  private async count(): Promise<void> {
    this.emitter.emit("pending", (await this.store.all()).length);
  }
}

function onTheWire(op: PendingOp): Op {
  const { queued_at: _, ...wire } = op;
  return wire as Op; // Omit over a union would merge its members
}
