// The compiler's check that a switch names every member of a union the contract generates
// (event kinds, frame types): call it in the switch's default.

/** Compiles only when `value` can no longer be anything, i.e. every case above handled it; a
 * kind added to the contract and not handled fails `npm run typecheck` here. At run time it
 * does nothing: a newer server may send a kind this build was never told of (schemas only
 * grow), and a phone still running this build ignores it rather than fail. */
export function assertNever(value: never): void {
  void value;
}
