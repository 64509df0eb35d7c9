// Op ids: UUIDv7 (the contract prefers time-ordered ids), from the platform's crypto, which
// browsers, Node and React Native (with its usual getRandomValues polyfill) all have.

type CryptoLike = { getRandomValues<T extends ArrayBufferView | null>(array: T): T };

export function uuidv7(now: () => number = Date.now): string {
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (!crypto) throw new Error("No crypto.getRandomValues on this platform: pass `uuid`");
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Math.floor(now());
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f); // version 7
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f); // RFC 9562 variant
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
