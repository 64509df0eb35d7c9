import { useEffect, useState } from "preact/hooks";

/** A value that screens watch: set() re-renders every component that reads it. */
export class Store<T> {
  private listeners = new Set<() => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set(next: T): void {
    this.current = next;
    for (const listener of [...this.listeners]) listener();
  }

  update(change: (value: T) => T): void {
    this.set(change(this.current));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function useStore<T>(store: Store<T>): T {
  const [, rerender] = useState(0);
  const seen = store.value;
  useEffect(() => {
    const off = store.subscribe(() => rerender((n) => n + 1));
    // Effects run after paint: a change made between render and now would be missed.
    if (store.value !== seen) rerender((n) => n + 1);
    return off;
  }, [store]);
  return seen;
}
