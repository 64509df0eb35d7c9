// The generated types are precise enough to need no casts (checked by `npm run typecheck`;
// vitest runs the file too, where the checks are no-ops).
import { expectTypeOf, it } from "vitest";

import type { EventKind, EventOf, OpAnswerOf, OpBody, Pause, ProblemCode, Reading } from "../../src/index.js";

it("an op's answer, an event's body, an op's body and a problem's code are typed per kind", () => {
  expectTypeOf<OpAnswerOf<"pause.start">["result"]>().toEqualTypeOf<Pause>();
  expectTypeOf<OpAnswerOf<"reading.start">["result"]>().toEqualTypeOf<Reading>();
  expectTypeOf<EventOf<"pause.started">["body"]>().toEqualTypeOf<Pause>();
  expectTypeOf<OpBody<"pause.extend">>().toHaveProperty("minutes");
  expectTypeOf<"rate_limited">().toExtend<ProblemCode>();
  expectTypeOf<"no_such_code">().not.toExtend<ProblemCode>();
});

it("an event's kind is one of the contract's kinds, so a switch over it can be exhaustive", () => {
  expectTypeOf<"pause.started">().toExtend<EventKind>();
  expectTypeOf<string>().not.toExtend<EventKind>();
});
