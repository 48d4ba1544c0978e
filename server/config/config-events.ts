// Tells the parts that depend on the configuration (the control plane pushes it to agents and reloads
// the controller; the alarm engine re-reads its directory) that a change committed. Built first by the
// composition root and handed to each part that listens.
export class ConfigEvents {
  private readonly listeners = new Set<() => void>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once a configuration change committed (the tRPC configChangeProcedure does it). */
  changed(): void {
    for (const l of this.listeners) l();
  }
}
