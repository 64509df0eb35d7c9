// The /v1/sync protocol as every phone must speak it (docs/API.md, "The socket"): hello with
// the last seq held, replay, live events in seq order; reconnect with backoff and jitter;
// `reset` -> reload the state; ops kept until answered and re-sent after a reconnect; the
// access token refreshed before it expires and on 4401 once; presence.
import { Api, ApiError } from "./api.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { Close, type ClientFrame, type EventFrame, type ServerFrame } from "./frames.js";
import { uuidv7 } from "./ids.js";
import { assertNever } from "./never.js";
import { Outbox, type OpOutcome } from "./outbox.js";
import { MemoryPendingStore, type PendingOp, type PendingStore } from "./pending.js";
import { platformTimers, type Timers, type WebSocketConstructor, type WebSocketLike } from "./platform.js";
import type { CoupleState, Event, Op, OpAnswerOf, OpBody, OpKind } from "./types.js";

export type SyncStatus = "idle" | "connecting" | "live" | "offline" | "signed_out" | "unlinked";

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
  answer: OpOutcome;
};

// A close code of our own (4000-4999 is the application's range): we dropped the socket.
const DROPPED = 4000;
const OPEN = 1;

export class SyncClient {
  private readonly api: Api;
  private readonly url: string;
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
  private readonly outbox: Outbox;

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
  private idleTimer: unknown = null;
  private welcomeTimer: unknown = null;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private stopTokens: (() => void) | null = null;

  constructor(opts: SyncOptions) {
    this.api = opts.api;
    this.url = socketUrl(opts.url ?? opts.api.baseUrl);
    const store = opts.pending ?? new MemoryPendingStore();
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new Error("No WebSocket on this platform: pass `WebSocket`");
    this.WS = WS;
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? platformTimers;
    this.outbox = new Outbox(store, this.timers, this.emitter);
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
    const offTokens = this.api.onTokens((tokens) => {
      if (tokens === null) this.signedOut(); // signed out here, or the session ended
    });
    const stopRefreshing = this.api.keepFresh(this.timers);
    this.stopTokens = () => {
      offTokens();
      stopRefreshing();
    };
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
    const { answered } = await this.outbox.add(op);
    const { queued_at: _, ...wire } = op;
    this.transmit(wire as Op);
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
        this.showPauseAtOnce(frame);
        this.reloadSoon();
        return;
      case "reset":
        // The server's log is shorter than what we hold: its head is the truth from now on.
        this._head = frame.head;
        void this.reload();
        return;
      case "ack":
        return void this.outbox.acked(frame);
      case "error":
        return this.outbox.refused(frame, (op) => {
          if (ws === this.ws) this.transmit(op);
        });
      case "presence":
        if (frame.user_id !== this._userId) {
          this.presenceFromState = false;
          this.setPresence(frame.online);
        }
        return;
      case "pong":
        return;
      default:
        return assertNever(frame);
    }
  }

  private async resendPending(ws: WebSocketLike): Promise<void> {
    for (const op of await this.outbox.waiting()) {
      if (ws !== this.ws) return;
      this.write(ws, { type: "op", ...op });
    }
  }

  /** Sends an op now if a welcomed socket is there; otherwise the next welcome sends it. */
  private transmit(op: Op): void {
    if (this.ws && this.welcomedAt !== null) this.write(this.ws, { type: "op", ...op });
  }

  private write(ws: WebSocketLike, frame: ClientFrame): void {
    if (ws.readyState === OPEN) ws.send(JSON.stringify(frame));
  }

  // --- state, tokens, liveness -------------------------------------------------------------

  /** A pause is the one signal that must never wait for a reload: its event carries the whole
   * pause, so the state shows it at once (the reload that follows confirms the rest). */
  private showPauseAtOnce(event: EventFrame): void {
    if (this._state === null) return;
    switch (event.kind) {
      case "pause.started":
      case "pause.acknowledged":
      case "pause.extended":
      case "pause.ended":
      case "pause.expired": {
        const pause = event.body.state === "active" ? event.body : null;
        this._state = { ...this._state, head: event.seq, pause };
        this.emitter.emit("state", this._state);
        return;
      }
      // Everything else can wait for the reload that follows every event (reloadSoon).
      case "couple.linked":
      case "couple.settings_changed":
      case "couple.unlinked":
      case "reading.started":
      case "reading.entry_added":
      case "reading.entry_edited":
      case "reading.entry_deleted":
      case "reading.section_done":
      case "reading.finished":
      case "ritual.proposed":
      case "ritual.accepted":
      case "ritual.updated":
      case "ritual.archived":
      case "ritual.checked_in":
      case "repair.started":
      case "repair.step_set":
      case "repair.finished":
      case "repair.abandoned":
        return;
      default:
        return assertNever(event);
    }
  }

  private reloadSoon(): void {
    if (this.reloadTimer !== null) return;
    this.reloadTimer = this.timers.setTimeout(() => {
      this.reloadTimer = null;
      void this.reload();
    }, this.reloadDelay);
  }

  private async loadState(): Promise<void> {
    let stale = 0;
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
      if (state && state.head < this._head && stale++ < 2) {
        // Read before an event we already hold (a pause shown at once): read it again rather
        // than put an older pause back on the screen.
        this.reloadAgain = true;
        continue;
      }
      this._state = state;
      if (state && this.presenceFromState) {
        this.presenceFromState = false;
        this.setPresence(state.partner_online);
      }
      this.emitter.emit("state", state);
    } while (this.reloadAgain);
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
    this.outbox.cancelRetries();
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
    this.timers.clearTimeout(this.reconnectTimer);
    this.timers.clearTimeout(this.reloadTimer);
    this.reconnectTimer = this.reloadTimer = null;
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
