// Names for the generated schema's types, derived from the routes where a name could change
// (an op is whatever POST /v1/couple/ops takes), so regenerating src/schema.ts carries
// every change of the contract through without touching this file.
import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];

export type User = Schemas["User"];
export type Tokens = Schemas["Tokens"];
export type CoupleState = Schemas["CoupleState"];
export type Couple = Schemas["Couple"];
export type CoupleSettings = Schemas["CoupleSettings"];
export type Partner = Schemas["Partner"];
export type Event = Schemas["Event"];
export type EventKind = Event["kind"];
export type OpAnswer = Schemas["OpAnswer"];
export type Problem = Schemas["Problem"];
export type ProblemCode = Problem["code"];
export type Pause = Schemas["Pause"];
export type Reading = Schemas["Reading"];
export type Entry = Schemas["Entry"];
export type Ritual = Schemas["Ritual"];
export type Repair = Schemas["Repair"];
export type TimeZone = Schemas["TimeZone"];

type Method = "get" | "put" | "post" | "delete" | "patch";
export type Path = keyof paths;

type Operation<P extends Path, M extends Method> = paths[P][M] extends infer O
  ? O extends { responses: unknown }
    ? O
    : never
  : never;

/** The JSON body route ``P`` takes with method ``M`` (never when it takes none). */
export type RequestBody<P extends Path, M extends Method> =
  Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } }
    ? B
    : never;

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Responses<P extends Path, M extends Method> = Operation<P, M>["responses"];

/** What route ``P`` answers with method ``M`` on success (``void`` for 204). */
export type Answer<P extends Path, M extends Method> =
  Responses<P, M> extends infer R
    ? R extends { 200: infer A }
      ? JsonOf<A>
      : R extends { 201: infer A }
        ? JsonOf<A>
        : R extends { 202: infer A }
          ? JsonOf<A> extends never
            ? void
            : JsonOf<A>
          : void
    : never;

/** The query parameters of route ``P`` with method ``M``. */
export type Query<P extends Path, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type SignUp = RequestBody<"/v1/accounts", "post">;
export type SignUpConfirm = RequestBody<"/v1/accounts/confirm", "post">;
export type SignIn = RequestBody<"/v1/sessions", "post">;
export type SignedIn = Answer<"/v1/sessions", "post">;

/** An op as the wire carries it: ``{op_id, kind, body}``, one member per kind. */
export type Op = RequestBody<"/v1/couple/ops", "post">;
export type OpKind = Op["kind"];
/** The body op kind ``K`` takes. */
export type OpBody<K extends OpKind> = Extract<Op, { kind: K }> extends { body?: infer B }
  ? B
  : never;

/** What op kind ``K`` answers: its own ``OpAnswer.<kind>`` schema when the contract has one. */
export type OpAnswerOf<K extends OpKind> = `OpAnswer.${K}` extends keyof Schemas
  ? Schemas[`OpAnswer.${K}`]
  : OpAnswer;

/** The event of kind ``K`` (its body typed, when the contract types each kind's body). */
export type EventOf<K extends EventKind> = Extract<Event, { kind: K }>;
