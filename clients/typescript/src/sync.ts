// The /v1/sync protocol as every phone must speak it (docs/API.md, "The socket"): hello with
// the last seq held, replay, live events in seq order; reconnect with backoff and jitter;
// `reset` -> reload the state; ops kept until answered and re-sent after a reconnect; the
// access token refreshed before it expires and on 4401 once; presence.
import { Api, ApiError } from "./api.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { Close, RETRYABLE_OP_ERRORS, type ClientFrame, type ServerFrame } from "./frames.js";
import { uuidv7 } from "./ids.js";
import { MemoryPendingStore, type PendingOp, type PendingStore } from "./pending.js";
import type { CoupleState, Event, Op, OpAnswer, OpAnswerOf, OpBody, OpKind, ProblemCode } from "./types.js";

export type SyncStatus = "idle" | "connecting" | "live" | "offline" | "signed_out" | "unlinked";

/** What the client needs of a WebSocket: the browser's, React Native's and Node's all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: each platform types its events differently; only `data` and `code` are read.
  onopen: ((ev: any) => unknown) | null;
  onmessage: ((ev: any) => unknown) | null;
  onclose: ((ev: any) => unknown) | null;
  onerror: ((ev: any) => unknown) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type Timers = {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export type SyncOptions = {
  api: Api;
  /** The socket's URL or its ws(s) base; derived from ``api.baseUrl`` when left out. */
  url?: string;
  pending?: PendingStore;
  WebSocket?: WebSocketConstructor;
  random?: () => number;
  timers?: Timers;
  now?: () => number;
  uuid?: () => string;
  /** The last seq this device holds from an earlier run (0: none; the state is loaded). */
  head?: number;
  backoff?: BackoffOptions;
  /** A connection live this long (ms) counts as good: the next wait starts small again. */
  stableAfter?: number;
  /** Wait this long (ms) after events before reloading the state, so a replay loads it once. */
  reloadDelay?: number;
  /** Send an app-level ping after this long (ms) without a frame; drop after twice that. */
  idlePing?: number;
  /** Drop a connection not welcomed within this long (ms) and try again. */
  welcomeTimeout?: number;
};

export type SyncEvents = {
  state: CoupleState | null;
  event: Event;
  status: SyncStatus;
  presence: boolean;
  /** How many ops are waiting for their answer. */
  pending: number;
  /** Every op's outcome, also for ops sent by an earlier client on the same pending store
   * (whose ``send`` promise is gone with the page that made it). */
  answer: { op_id: string; answer: OpAnswer; error?: undefined } | { op_id: string; answer?: undefined; error: OpError };
};

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

type Waiter = { resolve(answer: OpAnswer): void; reject(error: Error): void };

// A close code of our own (4000-4999 is the application's range): we dropped the socket.
const DROPPED = 4000;
const OPEN = 1;

export class SyncClient {
  private readonly api: Api;
  private readonly url: string;
  private readonly store: PendingStore;
  private readonly WS: WebSocketConstructor;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly uuid: () => string;
  private readonly backoff: BackoffOptions;
  private readonly stableAfter: number;
  private readonly reloadDelay: number;
  private readonly idlePing: number;
  private readonly welcomeTimeout: number;
  private readonly emitter = new Emitter<SyncEvents>();
  private readonly waiters = new Map<string, Waiter>();

  private _status: SyncStatus = "idle";
  private _head: number;
  private _state: CoupleState | null = null;
  private _partnerOnline = false;
  // Set by couple.linked: the server sends no presence frame for a partner who was online
  // before the couple existed, so the next state (its partner_online) says. A presence frame
  // meanwhile is fresher and wins.
  private presenceFromState = false;
  private _userId: string | null = null;
  private running = false;
  private ws: WebSocketLike | null = null;
  private welcomedAt: number | null = null;
  private lastHeard = 0;
  private attempts = 0;
  private refreshedFor4401 = false;
  private reconnectTimer: unknown = null;
  private reloadTimer: unknown = null;
  private refreshTimer: unknown = null;
  private idleTimer: unknown = null;
  private welcomeTimer: unknown = null;
  private readonly retryTimers = new Set<unknown>();
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private stopTokens: (() => void) | null = null;

  constructor(opts: SyncOptions) {
    this.api = opts.api;
    this.url = socketUrl(opts.url ?? opts.api.baseUrl);
    this.store = opts.pending ?? new MemoryPendingStore();
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new Error("No WebSocket on this platform: pass `WebSocket`");
    this.WS = WS;
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? {
      setTimeout: (run, ms) => globalThis.setTimeout(run, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.now = opts.now ?? (() => Date.now());
    this.uuid = opts.uuid ?? (() => uuidv7(this.now));
    this._head = opts.head ?? 0;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.stableAfter = opts.stableAfter ?? 10_000;
    this.reloadDelay = opts.reloadDelay ?? 50;
    this.idlePing = opts.idlePing ?? 30_000;
    this.welcomeTimeout = opts.welcomeTimeout ?? 15_000;
  }

  get status(): SyncStatus {
    return this._status;
  }
  /** The last seq this client holds: sent as ``after`` on every (re)connect. */
  get head(): number {
    return this._head;
  }
  get state(): CoupleState | null {
    return this._state;
  }
  get partnerOnline(): boolean {
    return this._partnerOnline;
  }
  /** The signed-in person's id, known once a socket was welcomed. */
  get userId(): string | null {
    return this._userId;
  }

  on<K extends keyof SyncEvents>(name: K, listener: (value: SyncEvents[K]) => void): () => void {
    return this.emitter.on(name, listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.refreshedFor4401 = false;
    this.attempts = 0;
    this.stopTokens = this.api.onTokens((tokens) => {
      if (tokens === null) this.signedOut();
      else this.scheduleRefresh();
    });
    this.setStatus("connecting");
    void this.boot();
  }

  stop(): void {
    if (!this.running) return;
    this.halt();
    this.setStatus("idle");
  }

  /** Sends an op; it stays in the pending store until answered and is sent again after
   * every reconnect (the server applies an op_id once). Resolves with the ack; rejects with
   * an OpError when the server refuses it. */
  async send<K extends OpKind>(kind: K, body: OpBody<K>): Promise<OpAnswerOf<K>> {
    const op = { op_id: this.uuid(), kind, body, queued_at: this.now() } as PendingOp;
    const answered = new Promise<OpAnswer>((resolve, reject) => {
      this.waiters.set(op.op_id, { resolve, reject });
    });
    await this.store.put(op);
    void this.countPending();
    if (this.welcomedAt !== null) this.transmit(op);
    return answered as Promise<OpAnswerOf<K>>; // the server answers each kind with its own
  }

  /** Loads ``/v1/couple/state`` again (coalesced: at most one load runs, one more follows). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.loadState().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  // --- connecting --------------------------------------------------------------------------

  private async boot(): Promise<void> {
    if (!(await this.api.signedIn())) return this.signedOut();
    this.scheduleRefresh();
    const resume = this._head > 0;
    if (resume) void this.reload();
    else {
      // No seq held: the state tells where the log stands, so the socket replays only what
      // happens after it rather than the couple's whole history.
      await this.reload();
      if (this._state) this._head = Math.max(this._head, this._state.head);
    }
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    let token: string;
    try {
      token = await this.api.accessToken();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.signedOut();
      return this.retryLater();
    }
    if (!this.running || this.ws) return;
    const ws = new this.WS(this.url);
    this.ws = ws;
    this.welcomedAt = null;
    this.lastHeard = this.now();
    this.watchIdle(ws);
    // A connection that hangs before its welcome (a dead network, a stuck proxy) is dropped.
    this.welcomeTimer = this.timers.setTimeout(() => {
      if (ws === this.ws && this.welcomedAt === null) this.drop(ws, "no welcome");
    }, this.welcomeTimeout);
    ws.onopen = () => this.write(ws, { type: "hello", token, after: this._head });
    ws.onmessage = (ev: { data: unknown }) => {
      if (ws !== this.ws || typeof ev.data !== "string") return;
      this.lastHeard = this.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return; // not a frame of the contract; the server never sends one
      }
      this.receive(ws, frame);
    };
    ws.onclose = (ev: { code?: number }) => {
      if (ws === this.ws) this.closed(ev.code ?? 1006);
    };
    ws.onerror = () => {
      // Browsers follow an error with a close event, but Node 20's WebSocket leaves a socket
      // it could not connect in CONNECTING for good: act on the error itself.
      if (ws === this.ws) this.drop(ws, "error");
    };
  }

  /** Drops the socket ourselves (a gap, a silent peer): reconnect as after any close. */
  private drop(ws: WebSocketLike, reason: string): void {
    detach(ws);
    try {
      ws.close(DROPPED, reason);
    } catch {
      // already closing
    }
    if (ws === this.ws) this.closed(DROPPED);
  }

  private closed(code: number): void {
    const good = this.welcomedAt !== null && this.now() - this.welcomedAt >= this.stableAfter;
    if (this.ws) detach(this.ws);
    this.ws = null;
    this.welcomedAt = null;
    this.clearSocketTimers();
    if (!this.running) return;
    if (good) this.attempts = 0;
    if (code === Close.UNLINKED) {
      this.halt();
      // The seqs held were the old couple's: a later start (linked anew) begins from the
      // new couple's state, not from a head in a log that is gone.
      this._head = 0;
      this.setStatus("unlinked");
      void this.reload();
      return;
    }
    if (code === Close.UNAUTHORIZED) {
      // Once: a token refused again right after a refresh means the session is over.
      if (this.refreshedFor4401) return this.signedOut();
      this.setStatus("connecting");
      this.api.refresh().then(
        () => {
          this.refreshedFor4401 = true;
          return this.connect();
        },
        (error: unknown) =>
          error instanceof ApiError && error.status === 401 ? this.signedOut() : this.retryLater(),
      );
      return;
    }
    this.retryLater();
  }

  private retryLater(): void {
    if (!this.running) return;
    this.setStatus("offline");
    const wait = backoffDelay(this.attempts++, this.random, this.backoff);
    this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      this.setStatus("connecting");
      void this.connect();
    }, wait);
  }

  // --- frames ------------------------------------------------------------------------------

  private receive(ws: WebSocketLike, frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        this.welcomedAt = this.now();
        this.refreshedFor4401 = false;
        this._userId = frame.user_id;
        this.setPresence(frame.partner_online);
        this.setStatus("live");
        if (this._state === null || frame.head !== this._head) this.reloadSoon();
        void this.resendPending(ws);
        return;
      case "event":
        if (frame.seq <= this._head) return; // already held (a replay overlapping live)
        if (frame.seq !== this._head + 1) return this.drop(ws, "gap"); // resume from head
        this._head = frame.seq;
        if (frame.kind === "couple.linked") this.presenceFromState = true;
        this.emitter.emit("event", withoutType(frame));
        this.reloadSoon();
        return;
      case "reset":
        // The server's log is shorter than what we hold: its head is the truth from now on.
        this._head = frame.head;
        void this.reload();
        return;
      case "ack": {
        const answer = withoutType(frame);
        this.emitter.emit("answer", { op_id: frame.op_id, answer });
        return void this.answered(frame.op_id, (w) => w.resolve(answer));
      }
      case "error":
        return this.refused(ws, frame.op_id, frame.code, frame.detail, frame.retry_after);
      case "presence":
        if (frame.user_id !== this._userId) {
          this.presenceFromState = false;
          this.setPresence(frame.online);
        }
        return;
      case "pong":
        return;
    }
  }

  private async resendPending(ws: WebSocketLike): Promise<void> {
    for (const op of await this.store.all()) {
      if (ws !== this.ws) return;
      this.write(ws, { type: "op", ...stripQueued(op) });
    }
  }

  private transmit(op: PendingOp): void {
    if (this.ws && this.welcomedAt !== null) this.write(this.ws, { type: "op", ...stripQueued(op) });
  }

  private async answered(opId: string, settle: (w: Waiter) => void): Promise<void> {
    await this.store.delete(opId);
    const waiter = this.waiters.get(opId);
    this.waiters.delete(opId);
    if (waiter) settle(waiter);
    await this.countPending();
  }

  private refused(
    ws: WebSocketLike,
    opId: string | null,
    code: ProblemCode,
    detail: string,
    retryAfter: number | undefined,
  ): void {
    if (opId === null) return; // a frame it could not read; ours are well-formed
    if (RETRYABLE_OP_ERRORS.has(code)) {
      // Its op_id is not used up: the same op goes again after the wait (and after a
      // reconnect, if the socket goes first).
      const handle = this.timers.setTimeout(async () => {
        this.retryTimers.delete(handle);
        if (ws !== this.ws) return;
        const op = (await this.store.all()).find((p) => p.op_id === opId);
        if (op) this.transmit(op);
      }, Math.max(1, retryAfter ?? 1) * 1000);
      this.retryTimers.add(handle);
      return;
    }
    const error = new OpError(code, detail, opId);
    this.emitter.emit("answer", { op_id: opId, error });
    void this.answered(opId, (w) => w.reject(error));
  }

  private write(ws: WebSocketLike, frame: ClientFrame): void {
    if (ws.readyState === OPEN) ws.send(JSON.stringify(frame));
  }

  // --- state, tokens, liveness -------------------------------------------------------------

  private reloadSoon(): void {
    if (this.reloadTimer !== null) return;
    this.reloadTimer = this.timers.setTimeout(() => {
      this.reloadTimer = null;
      void this.reload();
    }, this.reloadDelay);
  }

  private async loadState(): Promise<void> {
    do {
      this.reloadAgain = false;
      let state: CoupleState | null;
      try {
        state = await this.api.state();
      } catch (error) {
        if (!(error instanceof ApiError)) return; // offline: the next event or welcome loads it
        if (error.status === 401) return this.signedOut();
        if (error.code !== "not_linked") return;
        state = null;
      }
      this._state = state;
      if (state && this.presenceFromState) {
        this.presenceFromState = false;
        this.setPresence(state.partner_online);
      }
      this.emitter.emit("state", state);
    } while (this.reloadAgain);
  }

  private scheduleRefresh(): void {
    this.timers.clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    void this.api.refreshDueAt().then((due) => {
      if (due === null || !this.running) return;
      this.timers.clearTimeout(this.refreshTimer);
      this.refreshTimer = this.timers.setTimeout(() => {
        this.refreshTimer = null;
        // Success reschedules through onTokens; a failure that is not the session's end
        // tries again shortly (the token is still good for the margin).
        this.api.refresh().catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 401) this.signedOut();
          else if (this.running) this.refreshTimer = this.timers.setTimeout(() => this.scheduleRefresh(), 5_000);
        });
      }, Math.max(0, due - this.now()));
    });
  }

  private watchIdle(ws: WebSocketLike): void {
    const check = () => {
      if (ws !== this.ws) return;
      const quiet = this.now() - this.lastHeard;
      if (quiet >= 2 * this.idlePing) return this.drop(ws, "silent");
      if (quiet >= this.idlePing) this.write(ws, { type: "ping" });
      this.idleTimer = this.timers.setTimeout(check, this.idlePing / 2);
    };
    this.idleTimer = this.timers.setTimeout(check, this.idlePing / 2);
  }

  private clearSocketTimers(): void {
    this.timers.clearTimeout(this.idleTimer);
    this.timers.clearTimeout(this.welcomeTimer);
    this.idleTimer = this.welcomeTimer = null;
    for (const handle of this.retryTimers) this.timers.clearTimeout(handle);
    this.retryTimers.clear();
  }

  private signedOut(): void {
    this.halt();
    this.setStatus("signed_out");
  }

  /** Stops everything (no reconnect); ops stay pending for the next start. */
  private halt(): void {
    this.running = false;
    this.stopTokens?.();
    this.stopTokens = null;
    const ws = this.ws;
    this.ws = null;
    this.welcomedAt = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(Close.NORMAL);
      } catch {
        // already closed
      }
    }
    for (const timer of [this.reconnectTimer, this.reloadTimer, this.refreshTimer]) {
      this.timers.clearTimeout(timer);
    }
    this.reconnectTimer = this.reloadTimer = this.refreshTimer = null;
    this.clearSocketTimers();
  }

  private setStatus(status: SyncStatus): void {
    if (status === this._status) return;
    this._status = status;
    this.emitter.emit("status", status);
  }

  private setPresence(online: boolean): void {
    if (online === this._partnerOnline) return;
    this._partnerOnline = online;
    this.emitter.emit("presence", online);
  }

  private async countPending(): Promise<void> {
    this.emitter.emit("pending", (await this.store.all()).length);
  }
}

/** ``http(s)://host`` or ``ws(s)://host`` (with or without the path) -> the socket's URL. */
export function socketUrl(base: string): string {
  const url = base.replace(/\/+$/, "").replace(/^http(s?):/, "ws$1:");
  return url.endsWith("/v1/sync") ? url : `${url}/v1/sync`;
}

function detach(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

// Distributes over a union (an event frame is one member per kind), as Omit alone does not.
type WithoutType<T> = T extends unknown ? Omit<T, "type"> : never;

function withoutType<T extends { type: string }>(frame: T): WithoutType<T> {
  const { type: _, ...rest } = frame;
  return rest as WithoutType<T>;
}

function stripQueued(op: PendingOp): Op {
  const { queued_at: _, ...wire } = op;
  return wire as Op; // Omit over a union would merge its members
}
