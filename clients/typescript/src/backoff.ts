// How long to wait before the next reconnect: exponential, capped, with jitter so that a
// node's restart does not bring every phone back in the same instant.

export type BackoffOptions = {
  /** The first wait's upper bound, ms. */
  initial: number;
  /** No wait is longer, ms. */
  max: number;
  factor: number;
};

export const DEFAULT_BACKOFF: BackoffOptions = { initial: 500, max: 30_000, factor: 2 };

/** The wait before attempt ``attempt`` (0 for the first retry): "equal jitter", between half
 * the exponential step and the whole of it, so it both spreads clients and keeps growing. */
export function backoffDelay(attempt: number, random: () => number, opts = DEFAULT_BACKOFF): number {
  const step = Math.min(opts.max, opts.initial * opts.factor ** Math.max(0, attempt));
  return step / 2 + random() * (step / 2);
}
