// What only the leading console carries out besides the controller — guided upgrades and scheduled
// switchovers — follows this console's role: started when it starts leading, stopped when it steps
// down (alive: a lease it could not renew), so that two consoles never drive one upgrade run; the new
// leader loads the run paused, as after a restart. Changes are applied one after the other: a step
// down while the duties are still starting stops them once they have started.
import type { Logger } from "../log";

export interface LeaderDuty {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class LeaderDuties {
  private on = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly duties: LeaderDuty[],
    private readonly log: Logger,
  ) {}

  /** This console's role now (every cluster notice): starts or stops the duties when it changed. */
  follow(role: "leader" | "follower"): void {
    const on = role === "leader";
    if (on === this.on) return;
    this.on = on;
    this.chain = this.chain.then(() => (on ? this.startAll() : this.stopAll("this console stepped down: guided upgrades and scheduled switchovers are left to the leading console")));
  }

  /** Resolves once the changes asked for so far are applied. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Stops them for good (the console stops); waits for a change under way. */
  async close(): Promise<void> {
    this.on = false;
    this.chain = this.chain.then(() => this.stopAll(null));
    await this.chain;
  }

  private async startAll(): Promise<void> {
    for (const d of this.duties) {
      try {
        await d.start();
      } catch (err) {
        this.log.error(`starting the leader's ${d.name} failed`, { error: String(err) });
      }
    }
  }

  private async stopAll(why: string | null): Promise<void> {
    for (const d of [...this.duties].reverse()) {
      try {
        await d.stop();
      } catch (err) {
        this.log.error(`stopping the leader's ${d.name} failed`, { error: String(err) });
      }
    }
    if (why) this.log.info(why);
  }
}
