// People and their devices against real server nodes (URLs from the environment; the pytest
// harness tests/test_typescript_client.py starts the nodes and sets them).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import {
  Api,
  MemoryTokenStore,
  SyncClient,
  uuidv7,
  type SignUp,
  type SyncEvents,
  type SyncOptions,
  type User,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../../src/index.js";

function url(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/test_typescript_client.py`);
  return value;
}

export const NODE_1 = url("TWOFOLD_URL");
export const NODE_2 = url("TWOFOLD_URL_2");
/** A node whose access tokens live 3 seconds (and whose clock is the real one). */
export const SHORT_TOKENS = url("TWOFOLD_URL_SHORT_TOKENS");

export type Person = { name: string; api: Api; user: User; store: MemoryTokenStore };

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));

/** The newest sign-up code mailed to ``email``, read from the nodes' outbox (their mails
 * table) by the repository's own helper, tests/mailed.py. */
export async function mailedCode(email: string): Promise<string> {
  const { stdout } = await promisify(execFile)(url("TWOFOLD_PYTHON"), ["-m", "tests.mailed", email], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url("TWOFOLD_TEST_DATABASE_URL") },
  });
  return stdout.trim();
}

export async function signUp(name: string, baseUrl = NODE_1, fetchFn?: typeof fetch): Promise<Person> {
  const store = new MemoryTokenStore();
  const api = new Api({ baseUrl, tokens: store, ...(fetchFn ? { fetch: fetchFn } : {}) });
  const fields: SignUp = {
    email: `${name.toLowerCase()}-${uuidv7()}@example.org`,
    password: "correct horse battery staple",
    display_name: name,
    timezone: "Europe/Berlin",
  };
  await api.askSignUp(fields);
  const user = await api.confirmSignUp({ ...fields, code: await mailedCode(fields.email) });
  return { name, api, user, store };
}

/** Ana invites, Ben accepts: both through the client's calls. */
export async function link(ana: Person, ben: Person): Promise<void> {
  const invite = await ana.api.createInvite();
  await ben.api.acceptInvite(invite.code);
}

export function device(person: Person, opts: Partial<SyncOptions> = {}): SyncClient {
  // Short waits: the tests should not idle through a 30 s backoff.
  return new SyncClient({ api: person.api, backoff: { initial: 100, max: 1000, factor: 2 }, ...opts });
}

/** Resolves once ``holds()`` is true, checked now and after everything the client emits; no
 * sleeping, and a clear failure naming what never happened. */
export function eventually(
  sync: SyncClient,
  holds: () => boolean,
  what: string,
  { ms = 15_000, api }: { ms?: number; api?: Api } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const names: (keyof SyncEvents)[] = ["state", "event", "status", "presence", "pending"];
    let offs: (() => void)[] = [];
    const done = (error?: Error) => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      try {
        if (holds()) done();
      } catch (error) {
        done(error as Error);
      }
    };
    const timer = setTimeout(() => done(new Error(`never happened: ${what} (status ${sync.status})`)), ms);
    offs = names.map((name) => sync.on(name, check));
    if (api) offs.push(api.onTokens(check));
    check();
  });
}

/** A WebSocket whose network the test controls: ``offline`` sends new connections to a port
 * nobody listens on; ``url`` (when set) sends them to another node; ``onFrame`` sees each
 * frame first and may swallow it; ``drop()`` cuts the current connection. */
export class Network {
  offline = false;
  url: string | null = null;
  onFrame: ((frame: Record<string, unknown>, socket: WebSocketLike) => "swallow" | void) | null = null;
  readonly sockets: WebSocketLike[] = [];
  readonly urls: string[] = [];

  get WebSocket(): WebSocketConstructor {
    const network = this;
    return class implements WebSocketLike {
      private readonly inner: WebSocket;
      onopen: ((ev: unknown) => unknown) | null = null;
      onmessage: ((ev: { data: unknown }) => unknown) | null = null;
      onclose: ((ev: unknown) => unknown) | null = null;
      onerror: ((ev: unknown) => unknown) | null = null;

      constructor(target: string) {
        const path = new URL(target).pathname;
        const where = network.offline
          ? `ws://127.0.0.1:9${path}` // nothing listens there: like no network
          : network.url
            ? `${network.url.replace(/^http/, "ws")}${path}`
            : target;
        network.urls.push(where);
        this.inner = new WebSocket(where);
        network.sockets.push(this);
        this.inner.onopen = (ev) => this.onopen?.(ev);
        this.inner.onclose = (ev) => this.onclose?.(ev);
        this.inner.onerror = (ev) => this.onerror?.(ev);
        this.inner.onmessage = (ev) => {
          if (typeof ev.data === "string" && network.onFrame) {
            const frame = JSON.parse(ev.data) as Record<string, unknown>;
            if (network.onFrame(frame, this) === "swallow") return;
          }
          this.onmessage?.(ev);
        };
      }

      get readyState(): number {
        return this.inner.readyState;
      }
      send(data: string): void {
        this.inner.send(data);
      }
      close(code?: number, reason?: string): void {
        this.inner.close(code, reason);
      }
    };
  }

  /** Cuts the newest connection, as a lost network does (the client sees it close). */
  drop(): void {
    this.sockets.at(-1)?.close();
  }
}
