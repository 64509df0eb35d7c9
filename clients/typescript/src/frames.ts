// The /v1/sync frames (docs/asyncapi.json). Events and op answers reuse the OpenAPI types, so
// a precise Event or OpAnswer there is precise here too.
import type { Event, Op, OpAnswer, ProblemCode } from "./types.js";

export type Hello = { type: "hello"; token: string; after?: number };
export type OpFrame = { type: "op" } & Op;
export type PingFrame = { type: "ping" };
export type ClientFrame = Hello | OpFrame | PingFrame;

export type Welcome = {
  type: "welcome";
  user_id: string;
  couple_id: string | null;
  head: number;
  partner_online: boolean;
};
export type EventFrame = { type: "event" } & Event;
export type ResetFrame = { type: "reset"; head: number };
export type AckFrame = { type: "ack" } & OpAnswer;
export type ErrorFrame = {
  type: "error";
  op_id: string | null;
  code: ProblemCode;
  detail: string;
  /** Seconds to wait before sending the op again (``rate_limited``, ``unavailable``). */
  retry_after?: number;
};
export type PresenceFrame = { type: "presence"; user_id: string; online: boolean };
export type PongFrame = { type: "pong" };
export type ServerFrame =
  | Welcome
  | EventFrame
  | ResetFrame
  | AckFrame
  | ErrorFrame
  | PresenceFrame
  | PongFrame;

/** Close codes of the contract ("The socket", 5). */
export const Close = {
  NORMAL: 1000,
  TOO_BIG: 1009,
  INTERNAL: 1011,
  RESTART: 1012,
  TRY_AGAIN: 1013,
  UNAUTHORIZED: 4401,
  UNLINKED: 4403,
  NO_HELLO: 4408,
  TOO_MANY: 4429,
} as const;

/** Codes of an op error frame after which the same op_id may be sent again. */
export const RETRYABLE_OP_ERRORS: ReadonlySet<string> = new Set(["rate_limited", "unavailable"]);
