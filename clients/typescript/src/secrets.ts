// The device secrets this device holds, one per account: every sign-in (and sign-up) answers
// a new `device_secret`, and sending it with the next sign-in to that account (and with a
// password reset's confirm) is what makes the server count this device as one the account
// trusts: its wrong passwords are counted apart, and nobody else's guesses refuse it.

type StorageLike = {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
};

export interface DeviceSecretStore {
  /** The secret of the account with this email, if this device holds one. */
  load(email: string): string | null | Promise<string | null>;
  save(email: string, secret: string): void | Promise<void>;
}

/** Accounts are told apart by email, compared as the server compares them. */
export function accountOf(email: string): string {
  return email.trim().toLowerCase();
}

export class MemoryDeviceSecretStore implements DeviceSecretStore {
  private readonly secrets = new Map<string, string>();

  load(email: string): string | null {
    return this.secrets.get(accountOf(email)) ?? null;
  }

  save(email: string, secret: string): void {
    this.secrets.set(accountOf(email), secret);
  }
}

/** Browsers: the secrets in ``localStorage`` under ``key``, as one JSON object by account. */
export class LocalStorageDeviceSecretStore implements DeviceSecretStore {
  private readonly storage: StorageLike;

  constructor(
    private readonly key = "twofold:device-secrets",
    storage?: StorageLike,
  ) {
    const found = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!found) throw new Error("LocalStorageDeviceSecretStore needs localStorage (a browser)");
    this.storage = found;
  }

  load(email: string): string | null {
    return this.all()[accountOf(email)] ?? null;
  }

  save(email: string, secret: string): void {
    this.storage.setItem(this.key, JSON.stringify({ ...this.all(), [accountOf(email)]: secret }));
  }

  private all(): Record<string, string> {
    const text = this.storage.getItem(this.key);
    if (text === null) return {};
    try {
      const parsed = JSON.parse(text) as unknown;
      return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
    } catch {
      return {}; // not ours, or cut short: as if this device held none
    }
  }
}
