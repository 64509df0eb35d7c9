// Where the signed-in session's tokens live between calls (and, with a persistent store,
// between app starts).
import type { Tokens } from "./types.js";

/** Tokens as the client keeps them: with the moment the access token stops working, by this
 * device's clock at receipt plus ``expires_in`` (never the token's own ``exp``: the device's
 * clock and the server's may differ by minutes). */
export type StoredTokens = Tokens & { expires_at: number };

export interface TokenStore {
  load(): StoredTokens | null | Promise<StoredTokens | null>;
  save(tokens: StoredTokens | null): void | Promise<void>;
}

export class MemoryTokenStore implements TokenStore {
  private tokens: StoredTokens | null;

  constructor(tokens: StoredTokens | null = null) {
    this.tokens = tokens;
  }

  load(): StoredTokens | null {
    return this.tokens;
  }

  save(tokens: StoredTokens | null): void {
    this.tokens = tokens;
  }
}

type StorageLike = {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
};

/** Browsers: tokens in ``localStorage`` under ``key``, so a reload stays signed in. Tabs share
 * them: the Api reads the store again before refreshing, so two tabs do not both present the
 * same refresh token (the second would look like theft and end the session). */
export class LocalStorageTokenStore implements TokenStore {
  private readonly storage: StorageLike;

  constructor(
    private readonly key = "twofold:tokens",
    storage?: StorageLike,
  ) {
    const found = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!found) throw new Error("LocalStorageTokenStore needs localStorage (a browser)");
    this.storage = found;
  }

  load(): StoredTokens | null {
    const text = this.storage.getItem(this.key);
    if (text === null) return null;
    try {
      return JSON.parse(text) as StoredTokens;
    } catch {
      return null; // not ours, or cut short: as if signed out
    }
  }

  save(tokens: StoredTokens | null): void {
    if (tokens === null) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(tokens));
  }
}
