import { describe, expect, it } from "vitest";

import { LocalStorageDeviceSecretStore, LocalStorageTokenStore } from "../../src/index.js";

class Storage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe("LocalStorageTokenStore", () => {
  it("keeps the tokens across a reload and forgets them at sign-out", () => {
    const storage = new Storage();
    const tokens = { access_token: "a", refresh_token: "r", expires_in: 900, expires_at: 123 };
    new LocalStorageTokenStore("twofold:tokens", storage).save(tokens);
    const afterReload = new LocalStorageTokenStore("twofold:tokens", storage);
    expect(afterReload.load()).toEqual(tokens);
    afterReload.save(null);
    expect(storage.items.size).toBe(0);
  });

  it("reads a damaged entry as signed out", () => {
    const storage = new Storage();
    storage.setItem("twofold:tokens", "{not json");
    expect(new LocalStorageTokenStore("twofold:tokens", storage).load()).toBeNull();
  });

  it("says plainly when there is no localStorage (Node, React Native)", () => {
    expect(() => new LocalStorageTokenStore()).toThrow(/localStorage/);
  });
});

describe("LocalStorageDeviceSecretStore", () => {
  it("keeps one secret per account across a reload, under a twofold: key", () => {
    const storage = new Storage();
    new LocalStorageDeviceSecretStore(undefined, storage).save("Ana@Example.org", "a-1");
    const afterReload = new LocalStorageDeviceSecretStore(undefined, storage);
    afterReload.save("ben@example.org", "b-1");
    expect(afterReload.load(" ana@example.org")).toBe("a-1");
    expect(afterReload.load("ben@example.org")).toBe("b-1");
    expect(afterReload.load("cal@example.org")).toBeNull();
    expect([...storage.items.keys()]).toEqual(["twofold:device-secrets"]);
  });

  it("reads a damaged entry as holding no secret", () => {
    const storage = new Storage();
    storage.setItem("twofold:device-secrets", "{not json");
    expect(new LocalStorageDeviceSecretStore(undefined, storage).load("ana@example.org")).toBeNull();
  });
});
