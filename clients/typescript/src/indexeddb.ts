// Pending ops in IndexedDB (browsers): an op sent just before a reload, or with the network
// gone, is still there for the next SyncClient on this store, which sends it again.
import type { PendingOp, PendingStore } from "./pending.js";

const STORE = "pending_ops";

type IdbFactory = {
  open(name: string, version?: number): IDBOpenDBRequest;
};

/** One database per signed-in person: ``new IndexedDbPendingStore("twofold:<user_id>")``. */
export class IndexedDbPendingStore implements PendingStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(
    readonly name: string,
    private readonly factory?: IdbFactory,
  ) {}

  async all(): Promise<PendingOp[]> {
    const ops = await this.run<PendingOp[]>("readonly", (store) => store.getAll());
    return ops.sort((a, b) => a.queued_at - b.queued_at);
  }

  async put(op: PendingOp): Promise<void> {
    await this.run("readwrite", (store) => store.put(op));
  }

  async delete(op_id: string): Promise<void> {
    await this.run("readwrite", (store) => store.delete(op_id));
  }

  /** Closes the database (a test, or signing out before deleting it). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = null;
  }

  private open(): Promise<IDBDatabase> {
    if (this.db) return this.db;
    const factory = this.factory ?? (globalThis as { indexedDB?: IdbFactory }).indexedDB;
    if (!factory) return Promise.reject(new Error("No IndexedDB here: use MemoryPendingStore"));
    this.db = new Promise((resolve, reject) => {
      const request = factory.open(this.name, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "op_id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    this.db.catch(() => {
      this.db = null; // let the next call try again
    });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      // Resolved when the transaction commits, not when the request succeeds: only then is
      // the op on disk.
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  }
}
