// A server that is not there: a WebSocket class the test drives frame by frame, and a fetch
// that answers the few routes the sync client calls. Time is vitest's fake clock.
import { vi } from "vitest";

import { Api, MemoryTokenStore, SyncClient, type SyncOptions, type WebSocketLike } from "../../src/index.js";

export class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => unknown) | null = null;
  onmessage: ((ev: unknown) => unknown) | null = null;
  onclose: ((ev: unknown) => unknown) | null = null;
  onerror: ((ev: unknown) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  static last(): FakeSocket {
    const socket = FakeSocket.made.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number): void {
    this.closedWith = code ?? 1000;
    this.readyState = 3;
  }

  // --- the server's side ---
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** An error with no close after it, as Node 20's WebSocket does when it cannot connect. */
  fails(): void {
    this.onerror?.({});
  }
  serverCloses(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  /** Open, take the hello, welcome. */
  welcome(head: number, extra: Record<string, unknown> = {}): void {
    this.open();
    this.frame({ type: "welcome", user_id: BEN, couple_id: COUPLE, head, partner_online: false, ...extra });
  }
  ops(): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === "op");
  }
}

export const ANA = "0190a000-0000-7000-8000-00000000a0a0";
export const BEN = "0190a000-0000-7000-8000-00000000b0b0";
export const COUPLE = "0190a000-0000-7000-8000-0000000c0c0c";

export function event(seq: number, kind = "pause.started"): Record<string, unknown> {
  return { type: "event", seq, kind, actor_id: ANA, at: "2026-11-23T21:00:00Z", body: {} };
}

export function stateAt(head: number): Record<string, unknown> {
  return { head, pause: null, reading: null, rituals: [], repairs: [], partner_online: false };
}

type Handler = (body: unknown, headers: Headers) => Response | Promise<Response>;

/** fetch for "https://twofold.test": each route answered by the test's handler, each call
 * recorded. */
export class FakeServer {
  readonly calls: { method: string; path: string; auth: string | null; body: unknown }[] = [];
  readonly routes = new Map<string, Handler>();
  head = 0;
  refreshes = 0;
  /** Tokens are "access-N"/"refresh-N"; N grows with each refresh. */
  generation = 1;
  expiresIn = 900;

  constructor() {
    this.routes.set("GET /v1/couple/state", () => json(200, stateAt(this.head)));
    this.routes.set("POST /v1/sessions/refresh", (body) => {
      const presented = (body as { refresh_token: string }).refresh_token;
      if (presented !== `refresh-${this.generation}`) return problem(401, "unauthorized");
      this.refreshes++;
      this.generation++;
      return json(200, { tokens: this.tokens() });
    });
  }

  tokens(): { access_token: string; refresh_token: string; expires_in: number } {
    const n = this.generation;
    return { access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: this.expiresIn };
  }

  count(method: string, path: string): number {
    return this.calls.filter((c) => c.method === method && c.path === path).length;
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    this.calls.push({ method, path: url.pathname, auth: headers.get("authorization"), body });
    const handler = this.routes.get(`${method} ${url.pathname}`);
    if (!handler) return problem(404, "not_found");
    return handler(body, headers);
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function problem(status: number, code: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: "about:blank", status, title: code, detail: code, code }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** Ben signed in (tokens of generation 1, received now) against the fake server. */
export function signedInApi(server: FakeServer): Api {
  const tokens = { ...server.tokens(), expires_at: Date.now() + server.expiresIn * 1000 };
  return new Api({ baseUrl: "https://twofold.test", fetch: server.fetch, tokens: new MemoryTokenStore(tokens) });
}

export function syncClient(server: FakeServer, opts: Partial<SyncOptions> = {}): SyncClient {
  return new SyncClient({
    api: signedInApi(server),
    WebSocket: FakeSocket,
    random: () => 0.5,
    reloadDelay: 10,
    ...opts,
  });
}

/** Let every promise chain settle (fetches, stores) without moving the fake clock. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(0);
}

/** Ben's client started, its first socket welcomed at `head`, and everything settled: live. */
export async function live(ben: SyncClient, head = 0, extra: Record<string, unknown> = {}): Promise<FakeSocket> {
  ben.start();
  await settle();
  const socket = FakeSocket.last();
  socket.welcome(head, extra);
  await settle();
  return socket;
}
