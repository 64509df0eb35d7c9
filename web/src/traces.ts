// What the app keeps in this browser, and forgetting all of it. Every key and database the
// app writes is named `twofold:…` (tokens, the installation id, the crisis country, the screen
// lock, the pending ops' database `twofold:<user id>`...), so one sweep by that prefix clears
// them all, including any added later, without a list here to keep in step.

export const PREFIX = "twofold:";

function ours(storage: Storage): string[] {
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key?.startsWith(PREFIX)) keys.push(key);
  }
  return keys;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => resolve();
    // Another tab still has it open: it goes when that tab lets go (that tab is signed out
    // by the same sweep, through the storage event).
    request.onblocked = () => resolve();
  });
}

/** Removes every `twofold:` key from localStorage and sessionStorage, at once. */
export function forgetStorage(): void {
  for (const storage of [localStorage, sessionStorage]) {
    for (const key of ours(storage)) storage.removeItem(key);
  }
}

/** Deletes every `twofold:` IndexedDB database (`known` names too, where a browser cannot
 * list them). */
export async function forgetDatabases(known: readonly string[] = []): Promise<void> {
  const names = new Set(known);
  const listed = await indexedDB.databases?.().catch(() => []);
  for (const db of listed ?? []) if (db.name?.startsWith(PREFIX)) names.add(db.name);
  await Promise.all([...names].map(deleteDatabase));
}
