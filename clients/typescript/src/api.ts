// HTTP calls with the session's tokens: bearer on every call, the access token refreshed
// before it expires, and a 401 answered by one refresh and one retry.
import { platformTimers, type Timers } from "./platform.js";
import { MemoryDeviceSecretStore, type DeviceSecretStore } from "./secrets.js";
import { MemoryTokenStore, type StoredTokens, type TokenStore } from "./tokens.js";
import type {
  Answer,
  Op,
  Path,
  Problem,
  ProblemCode,
  Query,
  RequestBody,
  SignedIn,
  SignIn,
  SignUp,
  SignUpConfirm,
  Tokens,
  User,
} from "./types.js";

/** A refused call: the server's problem+json, with ``Retry-After`` in seconds when sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter?: number;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }

  get code(): ProblemCode {
    return this.problem.code;
  }
}

export type ApiOptions = {
  /** The server, e.g. ``https://twofold.example.org`` (no trailing ``/v1``). */
  baseUrl: string;
  tokens?: TokenStore;
  /** Where this device keeps the secret each sign-in answers (in memory by default: a new
   * process is then a device the account does not trust yet). */
  deviceSecrets?: DeviceSecretStore;
  fetch?: typeof fetch;
  /** This device's clock, ms since the epoch. */
  now?: () => number;
};

export type RequestInit = {
  /** Send the bearer token (default true). */
  auth?: boolean;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
};

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

// Refresh this long before the access token expires: a minute, or a quarter of a short-lived
// token's life (tests run with tokens of a few seconds).
const MARGIN_MS = 60_000;
const RETRY_REFRESH_MS = 5_000;

export function refreshMargin(tokens: Tokens): number {
  return Math.min(MARGIN_MS, (tokens.expires_in * 1000) / 4);
}

type Listener = (tokens: StoredTokens | null) => void;

export class Api {
  readonly baseUrl: string;
  private readonly store: TokenStore;
  private readonly secrets: DeviceSecretStore;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private tokens: StoredTokens | null | undefined = undefined; // undefined: not loaded yet
  private refreshing: Promise<void> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(opts: ApiOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.store = opts.tokens ?? new MemoryTokenStore();
    this.secrets = opts.deviceSecrets ?? new MemoryDeviceSecretStore();
    // Called unbound, `window.fetch` throws "Illegal invocation".
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = opts.now ?? (() => Date.now());
  }

  /** Called with the new tokens after sign-in and every refresh, and null at sign-out (or
   * when the session turned out to be over). */
  onTokens(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tokens held now (read from the store the first time). */
  async currentTokens(): Promise<StoredTokens | null> {
    if (this.tokens === undefined) this.tokens = (await this.store.load()) ?? null;
    return this.tokens;
  }

  async signedIn(): Promise<boolean> {
    return (await this.currentTokens()) !== null;
  }

  /** When to refresh the access token (ms since the epoch, this device's clock), or null. */
  async refreshDueAt(): Promise<number | null> {
    const tokens = await this.currentTokens();
    return tokens === null ? null : tokens.expires_at - refreshMargin(tokens);
  }

  /** Signing up, step one: a code goes to the email by mail. Answered alike whether or not
   * an account uses the email (its owner gets a mail saying someone tried, and no code). */
  askSignUp(body: SignUp): Promise<void> {
    return this.request("POST", "/v1/accounts", body, { auth: false });
  }

  /** Signing up, step two: the account is made from these fields (send them again; the
   * server kept none from step one) with the mailed code, and this device signs in. A wrong,
   * expired or used code is `code_invalid`. */
  async confirmSignUp(body: SignUpConfirm): Promise<User> {
    const answer = await this.request<SignedIn>("POST", "/v1/accounts/confirm", body, { auth: false });
    await this.signedInAs(answer);
    return answer.user;
  }

  /** Signs in, sending the secret this device holds for the account (unless the body has
   * one): the account then counts this device as trusted. */
  async signIn(body: SignIn): Promise<User> {
    const sent = await this.withSecret(body);
    const answer = await this.request<SignedIn>("POST", "/v1/sessions", sent, { auth: false });
    await this.signedInAs(answer);
    return answer.user;
  }

  /** Ends this session on the server (its sockets close) and forgets the tokens; the tokens
   * are forgotten even when the server cannot be reached. */
  async signOut(): Promise<void> {
    try {
      if (await this.signedIn()) await this.request("DELETE", "/v1/sessions/current");
    } finally {
      await this.keep(null);
    }
  }

  /** Rotates the tokens. Concurrent callers share one refresh: presenting a refresh token
   * twice would look like theft and end the session. */
  refresh(): Promise<void> {
    if (this.refreshing === null) {
      this.refreshing = this.withLock(() => this.refreshNow()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** Refreshes the access token before it expires, for as long as it runs (a SyncClient runs
   * it while started); returns the stop. A refusal ends the session (``onTokens(null)``); not
   * reaching the server tries again shortly, the token being good for the margin still. */
  keepFresh(timers: Timers = platformTimers): () => void {
    let timer: unknown = null;
    let stopped = false;
    const plan = async () => {
      const due = await this.refreshDueAt();
      timers.clearTimeout(timer);
      timer = null;
      if (due === null || stopped) return;
      timer = timers.setTimeout(() => {
        timer = null;
        this.refresh().catch((error: unknown) => {
          if (stopped || (error instanceof ApiError && error.status === 401)) return;
          timer = timers.setTimeout(() => void plan(), RETRY_REFRESH_MS);
        });
      }, Math.max(0, due - this.now()));
    };
    const off = this.onTokens((tokens) => {
      if (tokens) void plan(); // each new pair plans its own refresh
    });
    void plan();
    return () => {
      stopped = true;
      off();
      timers.clearTimeout(timer);
    };
  }

  /** A valid access token, refreshed first when it expires within the margin. */
  async accessToken(): Promise<string> {
    let tokens = await this.currentTokens();
    if (tokens === null) throw signedOut();
    if (this.now() >= tokens.expires_at - refreshMargin(tokens)) {
      await this.refresh();
      tokens = await this.currentTokens();
      if (tokens === null) throw signedOut();
    }
    return tokens.access_token;
  }

  /** One call: JSON in and out, bearer token, 401 -> one refresh -> one retry. */
  async request<T>(method: Method, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const auth = init.auth ?? true;
    const token = auth ? await this.accessToken() : null;
    let response = await this.send(method, path, body, init, token);
    if (response.status === 401 && token !== null) {
      // Another call may have refreshed already; refresh only if our token is still current.
      if ((await this.currentTokens())?.access_token === token) await this.refresh();
      response = await this.send(method, path, body, init, await this.accessToken());
    }
    return this.read<T>(response);
  }

  // --- thin typed helpers for the routes an app uses ---------------------------------------

  me(): Promise<User> {
    return this.request("GET", "/v1/me");
  }
  updateMe(patch: RequestBody<"/v1/me", "patch">): Promise<User> {
    return this.request("PATCH", "/v1/me", patch);
  }
  async deleteMe(body: RequestBody<"/v1/me", "delete">): Promise<void> {
    await this.request("DELETE", "/v1/me", body);
    await this.keep(null);
  }
  exportMe(): Promise<Answer<"/v1/me/export", "get">> {
    return this.request("GET", "/v1/me/export");
  }
  changePassword(body: RequestBody<"/v1/me/password", "post">): Promise<void> {
    return this.request("POST", "/v1/me/password", body);
  }
  sessions(): Promise<Answer<"/v1/me/sessions", "get">> {
    return this.request("GET", "/v1/me/sessions");
  }
  trustedDevices(): Promise<Answer<"/v1/me/trusted-devices", "get">> {
    return this.request("GET", "/v1/me/trusted-devices");
  }
  forgetTrustedDevice(trustId: string): Promise<void> {
    return this.request("DELETE", `/v1/me/trusted-devices/${encodeURIComponent(trustId)}`);
  }
  endSession(sessionId: string): Promise<void> {
    return this.request("DELETE", `/v1/me/sessions/${encodeURIComponent(sessionId)}`);
  }
  endOtherSessions(): Promise<void> {
    return this.request("DELETE", "/v1/me/sessions");
  }
  askPasswordReset(body: RequestBody<"/v1/password-resets", "post">): Promise<void> {
    return this.request("POST", "/v1/password-resets", body, { auth: false });
  }
  /** Sends this device's secret for the account along: the reset ends every other trusted
   * device, not this one. */
  async confirmPasswordReset(body: RequestBody<"/v1/password-resets/confirm", "post">): Promise<void> {
    const sent = await this.withSecret(body);
    return this.request("POST", "/v1/password-resets/confirm", sent, { auth: false });
  }
  /** A code by mail to sign in with, when a sign-in was answered `email_code_required`. */
  askSignInCode(body: RequestBody<"/v1/sessions/email-code", "post">): Promise<void> {
    return this.request("POST", "/v1/sessions/email-code", body, { auth: false });
  }
  /** The safety exit: unlinks, ends every session (this one too), maybe erases. */
  async leave(body: RequestBody<"/v1/me/leave", "post">): Promise<void> {
    await this.request("POST", "/v1/me/leave", body);
    await this.keep(null);
  }

  createInvite(): Promise<Answer<"/v1/invites", "post">> {
    return this.request("POST", "/v1/invites");
  }
  acceptInvite(code: string): Promise<Answer<"/v1/invites/accept", "post">> {
    return this.request("POST", "/v1/invites/accept", { code });
  }
  couple(): Promise<Answer<"/v1/couple", "get">> {
    return this.request("GET", "/v1/couple");
  }
  updateCoupleSettings(
    patch: RequestBody<"/v1/couple/settings", "patch">,
  ): Promise<Answer<"/v1/couple/settings", "patch">> {
    return this.request("PATCH", "/v1/couple/settings", patch);
  }
  unlink(): Promise<void> {
    return this.request("DELETE", "/v1/couple");
  }

  state(): Promise<Answer<"/v1/couple/state", "get">> {
    return this.request("GET", "/v1/couple/state");
  }
  events(query: Query<"/v1/couple/events", "get"> = {}): Promise<Answer<"/v1/couple/events", "get">> {
    return this.request("GET", "/v1/couple/events", undefined, { query });
  }
  /** An op over HTTP (the socket's ``send`` is the usual way). */
  op(op: Op): Promise<Answer<"/v1/couple/ops", "post">> {
    return this.request("POST", "/v1/couple/ops", op);
  }
  readings(query: Query<"/v1/couple/readings", "get"> = {}): Promise<Answer<"/v1/couple/readings", "get">> {
    return this.request("GET", "/v1/couple/readings", undefined, { query });
  }
  checkins(
    ritualId: string,
    query: Query<"/v1/couple/rituals/{ritual_id}/checkins", "get">,
  ): Promise<Answer<"/v1/couple/rituals/{ritual_id}/checkins", "get">> {
    const path = `/v1/couple/rituals/${encodeURIComponent(ritualId)}/checkins`;
    return this.request("GET", path, undefined, { query });
  }
  repairTemplates(): Promise<Answer<"/v1/repair-templates", "get">> {
    return this.request("GET", "/v1/repair-templates");
  }

  growth(query: Query<"/v1/me/growth", "get"> = {}): Promise<Answer<"/v1/me/growth", "get">> {
    return this.request("GET", "/v1/me/growth", undefined, { query });
  }
  addGrowth(body: RequestBody<"/v1/me/growth", "post">): Promise<Answer<"/v1/me/growth", "post">> {
    return this.request("POST", "/v1/me/growth", body);
  }

  registerDevice(
    installationId: string,
    body: RequestBody<"/v1/me/devices/{installation_id}", "put">,
  ): Promise<Answer<"/v1/me/devices/{installation_id}", "put">> {
    return this.request("PUT", `/v1/me/devices/${encodeURIComponent(installationId)}`, body);
  }
  forgetDevice(installationId: string): Promise<void> {
    return this.request("DELETE", `/v1/me/devices/${encodeURIComponent(installationId)}`);
  }
  notifications(): Promise<Answer<"/v1/me/notifications", "get">> {
    return this.request("GET", "/v1/me/notifications");
  }
  updateNotifications(
    patch: RequestBody<"/v1/me/notifications", "patch">,
  ): Promise<Answer<"/v1/me/notifications", "patch">> {
    return this.request("PATCH", "/v1/me/notifications", patch);
  }

  /** Crisis lines for a country (ISO code); needs no sign-in, so it works signed out too. */
  crisisLines(country?: string): Promise<Answer<"/v1/resources/crisis", "get">> {
    return this.request("GET", "/v1/resources/crisis", undefined, { auth: false, query: { country } });
  }

  // --- the machinery -----------------------------------------------------------------------

  private async withSecret<B extends { email: string; device_secret?: string | null }>(body: B): Promise<B> {
    if (body.device_secret) return body;
    const held = await this.secrets.load(body.email);
    return held ? { ...body, device_secret: held } : body;
  }

  private async signedInAs(answer: SignedIn): Promise<void> {
    await this.secrets.save(answer.user.email, answer.device_secret);
    await this.keep(answer.tokens);
  }

  private async refreshNow(): Promise<void> {
    const held = this.tokens ?? null;
    // Another tab (sharing the store) may have refreshed since we last read it: use its
    // tokens rather than present a refresh token that is already spent.
    const stored = (await this.store.load()) ?? null;
    if (stored !== null && held !== null && stored.refresh_token !== held.refresh_token) {
      this.tokens = stored;
      if (this.now() < stored.expires_at - refreshMargin(stored)) return;
    }
    const tokens = this.tokens ?? stored;
    if (!tokens) throw signedOut();
    let answer: { tokens: Tokens };
    try {
      answer = await this.request<{ tokens: Tokens }>(
        "POST",
        "/v1/sessions/refresh",
        { refresh_token: tokens.refresh_token },
        { auth: false },
      );
    } catch (error) {
      // The session is over (signed out elsewhere, expired, revoked): forget it.
      if (error instanceof ApiError && error.status === 401) await this.keep(null);
      throw error;
    }
    await this.keep(answer.tokens);
  }

  private async keep(tokens: Tokens | null): Promise<void> {
    const stored = tokens === null ? null : { ...tokens, expires_at: this.now() + tokens.expires_in * 1000 };
    this.tokens = stored;
    await this.store.save(stored);
    for (const listener of [...this.listeners]) listener(stored);
  }

  // Browsers with the Web Locks API hold a lock across tabs while refreshing; elsewhere the
  // in-page single flight is all there is (one app process).
  private withLock(run: () => Promise<void>): Promise<void> {
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    return locks ? locks.request("twofold:refresh", run) : run();
  }

  private send(
    method: Method,
    path: string,
    body: unknown,
    init: RequestInit,
    token: string | null,
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return this.fetchFn(url.toString(), {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: init.signal ?? null,
    });
  }

  private async read<T>(response: Response): Promise<T> {
    if (response.ok) {
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    const retry = response.headers.get("retry-after");
    const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : undefined;
    throw new ApiError(response.status, await problemOf(response), retryAfter);
  }
}

type LockManagerLike = { request(name: string, run: () => Promise<void>): Promise<void> };

function signedOut(): ApiError {
  return new ApiError(401, {
    type: "about:blank",
    status: 401,
    title: "Not signed in",
    detail: "Sign in first",
    code: "unauthorized",
  } as Problem);
}

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (parsed && typeof parsed.code === "string") return parsed as Problem;
  } catch {
    // not JSON: a proxy's page, say
  }
  // Something between us and the server answered (a proxy, a load balancer).
  return {
    type: "about:blank",
    status: response.status,
    title: response.statusText || `HTTP ${response.status}`,
    detail: text.slice(0, 200),
    code: response.status >= 500 ? "unavailable" : "validation_failed",
  } as Problem;
}
