// The simulator's call table and registrar (contacts with expiry). In-memory, clock passed in, no I/O:
// the SIP endpoint fills them, the HA link copies them to the backup (W11, W12).
import { z } from "zod";

export const callStates = ["ringing", "established"] as const;

/** A call as the HA link carries it; also what the lab endpoint creates in bulk. */
export const callRecordSchema = z
  .object({
    callId: z.string().min(1).max(256),
    from: z.string().max(512),
    to: z.string().max(512),
    state: z.enum(callStates),
    /** Multisite calls are not synchronised to the backup (W13 treats them apart). */
    multisite: z.boolean(),
    createdAtMs: z.number().int().min(0),
  })
  .strict();
export type CallRecord = z.infer<typeof callRecordSchema>;

/** Bound on the table so a flood of INVITEs cannot exhaust memory. */
export const maxCalls = 100_000;

export class CallTable {
  private readonly calls = new Map<string, CallRecord>();

  get size(): number {
    return this.calls.size;
  }

  get(callId: string): CallRecord | undefined {
    return this.calls.get(callId);
  }

  has(callId: string): boolean {
    return this.calls.has(callId);
  }

  /** Adds or replaces; false when the table is full and the call is new. */
  put(call: CallRecord): boolean {
    if (!this.calls.has(call.callId) && this.calls.size >= maxCalls) return false;
    this.calls.set(call.callId, call);
    return true;
  }

  remove(callId: string): CallRecord | undefined {
    const call = this.calls.get(callId);
    this.calls.delete(callId);
    return call;
  }

  all(): CallRecord[] {
    return [...this.calls.values()];
  }

  ids(): string[] {
    return [...this.calls.keys()];
  }

  /** Oldest first, so the backup receives calls in the order they were created. */
  nonMultisiteIds(): string[] {
    return this.all()
      .filter((call) => !call.multisite)
      .sort((a, b) => a.createdAtMs - b.createdAtMs)
      .map((call) => call.callId);
  }

  countMultisite(): number {
    let count = 0;
    for (const call of this.calls.values()) if (call.multisite) count += 1;
    return count;
  }

  /** Multisite calls that already existed at `timeMs` (a call created in that same millisecond counts). */
  countMultisiteExistingAt(timeMs: number): number {
    let count = 0;
    for (const call of this.calls.values()) if (call.multisite && call.createdAtMs <= timeMs) count += 1;
    return count;
  }
}

export const contactBindingSchema = z
  .object({ uri: z.string().min(1).max(512), expiresAtMs: z.number().int().min(0) })
  .strict();
export type ContactBinding = z.infer<typeof contactBindingSchema>;

/** Registrations per address-of-record; a REGISTER replaces or adds bindings (RFC 3261 §10.3). */
export class Registrar {
  private readonly bindings = new Map<string, Map<string, number>>();
  static readonly maxAors = 100_000;
  static readonly maxContactsPerAor = 32;

  /** Adds, refreshes or (expires 0) removes one binding. False when a limit refuses it. */
  bind(aor: string, uri: string, expiresSec: number, nowMs: number): boolean {
    let contacts = this.bindings.get(aor);
    if (expiresSec === 0) {
      contacts?.delete(uri);
      if (contacts?.size === 0) this.bindings.delete(aor);
      return true;
    }
    if (contacts === undefined) {
      if (this.bindings.size >= Registrar.maxAors) return false;
      contacts = new Map();
      this.bindings.set(aor, contacts);
    }
    if (!contacts.has(uri) && contacts.size >= Registrar.maxContactsPerAor) return false;
    contacts.set(uri, nowMs + expiresSec * 1000);
    return true;
  }

  removeAll(aor: string): void {
    this.bindings.delete(aor);
  }

  /** Live bindings of one AOR; expired ones are forgotten on the way. */
  lookup(aor: string, nowMs: number): ContactBinding[] {
    const contacts = this.bindings.get(aor);
    if (contacts === undefined) return [];
    const live: ContactBinding[] = [];
    for (const [uri, expiresAtMs] of contacts) {
      if (expiresAtMs > nowMs) live.push({ uri, expiresAtMs });
      else contacts.delete(uri);
    }
    if (contacts.size === 0) this.bindings.delete(aor);
    return live;
  }

  /** Replaces one AOR's bindings wholesale (what the backup does with an update from the primary). */
  replace(aor: string, bindings: readonly ContactBinding[], nowMs: number): void {
    const live = bindings.filter((binding) => binding.expiresAtMs > nowMs);
    if (live.length === 0) {
      this.bindings.delete(aor);
      return;
    }
    this.bindings.set(aor, new Map(live.slice(0, Registrar.maxContactsPerAor).map((binding) => [binding.uri, binding.expiresAtMs])));
  }

  snapshot(nowMs: number): Record<string, ContactBinding[]> {
    const result: Record<string, ContactBinding[]> = {};
    for (const aor of [...this.bindings.keys()]) {
      const live = this.lookup(aor, nowMs);
      if (live.length > 0) result[aor] = live;
    }
    return result;
  }

  clear(): void {
    this.bindings.clear();
  }

  countBindings(nowMs: number): number {
    return Object.values(this.snapshot(nowMs)).reduce((sum, list) => sum + list.length, 0);
  }
}
