// A minimal typed event emitter (no DOM EventTarget, so React Native can use the core).

export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners: { [K in keyof Events]?: Set<(value: Events[K]) => void> } = {};

  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    const set = (this.listeners[name] ??= new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of [...(this.listeners[name] ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        // One listener's bug must not stop the protocol or the other listeners.
        console.error(`twofold: a "${String(name)}" listener failed`, error);
      }
    }
  }
}
