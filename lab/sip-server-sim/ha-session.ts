// The HA session of one server with its partner (W11, W12): hello exchange on every link-up and role
// change, the primary's paced call sync to the backup, live replication of calls and contacts, and what
// readiness needs to know about it (link up since, calls the backup confirmed, sync complete). The
// transport (TCP framing, reconnects) is ha-link.ts.
import type { AppRole } from "../../protocol/app-contract";
import { planCallSync, runPacedSync, splitIntoBatches } from "./call-sync";
import type { CallRecord, CallTable, ContactBinding, Registrar } from "./calls";
import { HaLink, type HaMessage } from "./ha-link";

export interface HaSyncRecord {
  syncId: number;
  /** Sizes of the batches received (backup) or sent (primary), in order. */
  batchSizes: number[];
  done: boolean;
}

/** What the server knows about its partner from the last hello. */
export interface HaPeerState {
  name: string;
  role: AppRole;
  epoch: number;
}

/** Sync records kept for the lab state (the newest). */
const maxSyncRecords = 20;

export interface HaSessionOptions {
  name: string;
  peer: { name: string; address: string; haPort: number };
  /** Where to accept the partner's connection (the host's own address), or null to only dial. */
  listen: { address: string; port: number } | null;
  /** The pair's shared secret, proved by both ends before anything else; null: unauthenticated. */
  haSecret: string | null;
  reconnectMs: number;
  syncPauseMs: number;
  /** ha-max-calls-sync-at-once in effect; read when a sync starts, so a running sync keeps its size. */
  batchSize: () => number;
  role: () => AppRole;
  epoch: () => number;
  calls: CallTable;
  registrar: Registrar;
  nowMs: () => number;
  log: (line: string) => void;
  /** A call the backup dropped on the primary's word: the SIP side forgets its dialog state too. */
  forgetCall: (callId: string) => void;
  /** The link came up (first hello after connecting), before any sync starts: options waiting for it apply. */
  onLinkEstablished: () => void;
}

export class HaSession {
  private readonly link: HaLink;
  private linkUpSinceMsValue: number | null = null;
  private peerState: HaPeerState | null = null;
  private syncSequence = 0;
  private activeSyncId = -1;
  /** Primary: non-multisite calls the backup confirmed holding. */
  private readonly syncedOnBackup = new Set<string>();
  /** Backup: the primary's call list (from its hello and live updates), to show sync progress. */
  private readonly expectedFromPrimary = new Set<string>();
  private backupSyncCompleteValue = false;
  readonly syncLog: HaSyncRecord[] = [];
  private stopped = false;
  private warnedUnauthenticated = false;

  constructor(private readonly options: HaSessionOptions) {
    // A fixed rule so the two never race two connections: the name that sorts first dials.
    const dials = options.name < options.peer.name;
    this.link = new HaLink({
      listen: options.listen,
      dial: dials ? { address: options.peer.address, port: options.peer.haPort } : null,
      reconnectMs: options.reconnectMs,
      ownName: options.name,
      peerName: options.peer.name,
      secret: options.haSecret,
      events: {
        onConnected: () => this.sendHello(false),
        onMessage: (message) => this.onMessage(message),
        onDisconnected: (reason) => this.onLinkDown(reason),
        onProtocolError: (reason) => options.log(reason),
      },
    });
  }

  get linkUpSinceMs(): number | null {
    return this.linkUpSinceMsValue;
  }

  get peer(): HaPeerState | null {
    return this.peerState;
  }

  get backupSyncComplete(): boolean {
    return this.backupSyncCompleteValue;
  }

  /** Primary: how many of these calls the backup confirmed holding. */
  countSyncedOnBackup(callIds: readonly string[]): number {
    return callIds.filter((id) => this.syncedOnBackup.has(id)).length;
  }

  /** Backup: the primary's call list as last heard, and how many of those calls this server holds. */
  primaryCallList(heldIds: readonly string[]): { expected: number; held: number } {
    return { expected: this.expectedFromPrimary.size, held: heldIds.filter((id) => this.expectedFromPrimary.has(id)).length };
  }

  async start(): Promise<void> {
    this.warnIfUnauthenticated(this.options.haSecret);
    await this.link.start();
  }

  /** A new shared secret (reload): used from the next connection; the open link was proved with the old one. */
  setSecret(secret: string | null): void {
    this.link.setSecret(secret);
    this.warnIfUnauthenticated(secret);
  }

  private warnIfUnauthenticated(secret: string | null): void {
    if (secret !== null || this.warnedUnauthenticated) return;
    this.warnedUnauthenticated = true;
    this.options.log(
      `warning: the HA link to ${this.options.peer.name} is not authenticated (no haSecret in the configuration): ` +
        "anything that reaches the HA port can act as the partner",
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.link.stop();
  }

  /** After a role change the sync direction follows the roles: exchange call lists again. */
  roleChanged(): void {
    this.syncedOnBackup.clear();
    this.backupSyncCompleteValue = false;
    this.activeSyncId = -1;
    this.sendHello(true);
  }

  /** Primary: a call was created or changed; multisite calls stay here (W13 waits for them instead). */
  replicateCall(call: CallRecord): void {
    if (call.multisite) return;
    this.sendToBackup({ type: "call", call });
  }

  /** Primary: a call ended. */
  callEnded(callId: string): void {
    this.syncedOnBackup.delete(callId);
    this.sendToBackup({ type: "call-ended", callId });
  }

  /** Primary: an AOR's bindings changed (W11). */
  contactsChanged(aor: string, bindings: ContactBinding[]): void {
    this.sendToBackup({ type: "contacts", full: false, contacts: { [aor]: bindings } });
  }

  private sendToBackup(message: HaMessage): void {
    if (this.options.role() !== "primary" || this.peerState?.role !== "backup") return;
    this.link.send(message);
  }

  private sendHello(wantReply: boolean): void {
    this.link.send({
      wantReply,
      type: "hello",
      version: 1,
      name: this.options.name,
      role: this.options.role(),
      epoch: this.options.epoch(),
      callIds: this.options.calls.nonMultisiteIds(),
    });
  }

  private onLinkDown(reason: string): void {
    if (this.linkUpSinceMsValue !== null) this.options.log(`HA link down: ${reason}`);
    this.linkUpSinceMsValue = null;
    this.peerState = null;
    this.activeSyncId = -1;
    this.backupSyncCompleteValue = false;
    this.syncedOnBackup.clear();
  }

  private dropCall(callId: string): void {
    this.options.calls.remove(callId);
    this.options.forgetCall(callId);
    this.syncedOnBackup.delete(callId);
  }

  private onMessage(message: HaMessage): void {
    if (this.stopped) return;
    const { calls, registrar, log } = this.options;
    const expectedPeer = this.options.peer.name;
    if (message.type === "hello") {
      if (message.name !== expectedPeer) {
        log(`HA hello from ${message.name}, expected ${expectedPeer}; closing`);
        this.link.disconnect("unexpected peer");
        return;
      }
      if (this.linkUpSinceMsValue === null) {
        this.linkUpSinceMsValue = this.options.nowMs();
        log(`HA link up with ${message.name} (${message.role}, epoch ${message.epoch})`);
        this.options.onLinkEstablished();
      }
      this.peerState = { name: message.name, role: message.role, epoch: message.epoch };
      if (message.wantReply) this.sendHello(false);
      this.onPeerHello(message.callIds);
      return;
    }
    if (this.peerState === null) {
      log(`HA ${message.type} before hello; ignored`);
      return;
    }
    const role = this.options.role();
    const fromPrimaryToBackup = role === "backup" && this.peerState.role === "primary";
    switch (message.type) {
      case "calls-ack":
        if (role !== "primary") return;
        for (const callId of message.callIds) if (calls.has(callId)) this.syncedOnBackup.add(callId);
        return;
      case "sync-start":
        if (!fromPrimaryToBackup) return;
        this.activeSyncId = message.syncId;
        this.backupSyncCompleteValue = false;
        for (const callId of message.drop) this.dropCall(callId);
        this.syncLog.push({ syncId: message.syncId, batchSizes: [], done: false });
        return;
      case "calls": {
        if (!fromPrimaryToBackup || message.syncId !== this.activeSyncId) return;
        for (const call of message.calls) {
          calls.put(call);
          this.expectedFromPrimary.add(call.callId);
        }
        this.currentSyncRecord()?.batchSizes.push(message.calls.length);
        this.link.send({ type: "calls-ack", callIds: message.calls.map((call) => call.callId) });
        return;
      }
      case "sync-done": {
        if (!fromPrimaryToBackup || message.syncId !== this.activeSyncId) return;
        this.backupSyncCompleteValue = true;
        const record = this.currentSyncRecord();
        if (record) record.done = true;
        log(`call synchronisation ${message.syncId} from ${this.peerState.name} complete: ${calls.size} calls held`);
        return;
      }
      case "call":
        if (!fromPrimaryToBackup) return;
        calls.put(message.call);
        if (!message.call.multisite) this.expectedFromPrimary.add(message.call.callId);
        this.link.send({ type: "calls-ack", callIds: [message.call.callId] });
        return;
      case "call-ended":
        if (!fromPrimaryToBackup) return;
        this.dropCall(message.callId);
        this.expectedFromPrimary.delete(message.callId);
        return;
      case "contacts": {
        if (!fromPrimaryToBackup) return;
        const nowMs = this.options.nowMs();
        if (message.full) registrar.clear();
        for (const [aor, bindings] of Object.entries(message.contacts)) registrar.replace(aor, bindings, nowMs);
        return;
      }
    }
  }

  private currentSyncRecord(): HaSyncRecord | undefined {
    return this.syncLog.find((record) => record.syncId === this.activeSyncId);
  }

  private onPeerHello(peerCallIds: string[]): void {
    const role = this.options.role();
    if (role === "backup" && this.peerState?.role === "primary") {
      this.backupSyncCompleteValue = false;
      this.expectedFromPrimary.clear();
      for (const callId of peerCallIds) this.expectedFromPrimary.add(callId);
      return;
    }
    if (role === "primary" && this.peerState?.role === "backup") void this.syncCallsToBackup(peerCallIds);
  }

  /** W12: send the calls the backup is missing, ha-max-calls-sync-at-once per batch, pausing between. */
  private async syncCallsToBackup(backupCallIds: string[]): Promise<void> {
    const { calls, registrar, log } = this.options;
    const link = this.link;
    this.syncSequence += 1;
    const syncId = this.syncSequence;
    this.activeSyncId = syncId;
    const batchSize = this.options.batchSize();
    const plan = planCallSync(calls.nonMultisiteIds(), backupCallIds);
    this.syncedOnBackup.clear();
    for (const callId of plan.alreadySynced) this.syncedOnBackup.add(callId);
    const record: HaSyncRecord = { syncId, batchSizes: [], done: false };
    this.syncLog.push(record);
    if (this.syncLog.length > maxSyncRecords) this.syncLog.shift();
    link.send({ type: "sync-start", syncId, missing: plan.missingOnBackup.length, drop: plan.extraOnBackup });
    // W11: the whole contact table first, so registrations survive a switchover during the sync.
    link.send({ type: "contacts", full: true, contacts: registrar.snapshot(this.options.nowMs()) });
    const stillWanted = () => !this.stopped && this.activeSyncId === syncId && this.linkUpSinceMsValue !== null && link.connected;
    log(`call synchronisation ${syncId}: ${plan.missingOnBackup.length} calls missing on the backup, batches of ${batchSize}`);
    const sent = await runPacedSync(splitIntoBatches(plan.missingOnBackup, batchSize), this.options.syncPauseMs, {
      stillWanted,
      sleepMs: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      sendBatch: async (batch, batchIndex) => {
        // Calls that ended while we waited are not sent; the batch may then be smaller.
        const present = batch.map((callId) => calls.get(callId)).filter((call): call is CallRecord => call !== undefined);
        link.send({ type: "calls", syncId, batchIndex, calls: present });
        record.batchSizes.push(present.length);
        await link.drain();
      },
    });
    if (!stillWanted()) {
      log(`call synchronisation ${syncId} abandoned after ${sent} batches`);
      return;
    }
    link.send({ type: "sync-done", syncId });
    record.done = true;
  }
}
