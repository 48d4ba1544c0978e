// What the live-lab tests wait for and look at, over a lab stack: a pair healthy with a given primary,
// the VIP (lab files) where it should be, the pair's timeline since a moment, and a readable picture
// of a pair for failure messages. Waits are generous (shared machine); none is a timing assertion.
import type { PairView, ServerView } from "../server/runtime/live-view";
import { describeView, waitFor, type LabStack } from "./lab-stack";

export interface LabChecks {
  server(v: PairView, name: string): ServerView;
  other(v: PairView, name: string): ServerView;
  describePair(pair: string): Promise<string>;
  primaryOf(pair: string): Promise<string>;
  healthy(pair: string, primary: string, opts?: { ready?: boolean }): Promise<PairView>;
  vipOn(pair: string, onHost: string, offHost: string): Promise<void>;
  historySince(pair: string, since: Date): Promise<string[]>;
  /**
   * The pair's timeline since a moment, once every pattern matches it. The control plane writes its rows
   * after it acts (a plan is complete in the live view a moment before its last rows are saved), so a
   * test that reads them right after a wait on the view waits for them instead of reading once.
   */
  historyMatching(pair: string, since: Date, patterns: readonly RegExp[]): Promise<string>;
}

/** `stack` may be a getter, so a test file can make its checks before beforeAll starts the stack. */
export function labChecks(stackOrGetter: LabStack | (() => LabStack), waitMs: number): LabChecks {
  const get = typeof stackOrGetter === "function" ? stackOrGetter : () => stackOrGetter;
  const server = (v: PairView, name: string) => v.servers.find((s) => s.name === name)!;
  const other = (v: PairView, name: string) => v.servers.find((s) => s.name !== name)!;
  async function describePair(pair: string): Promise<string> {
    const v = await get().view(pair);
    const files = v.servers.map((s) => `${s.hostName}=${get().vipFile(pair, s.hostName)}`).join(" ");
    const rows = (await get().history(pair)).slice(-40).map((h) => `    ${h.at.toISOString().slice(11, 23)} e${h.epoch} ${h.kind}: ${h.text}`);
    return `${describeView(v)}\n  VIP files: ${files}\n  history (last 40):\n${rows.join("\n")}`;
  }
  const historySince = async (pair: string, since: Date) => (await get().history(pair)).filter((h) => h.at >= since).map((h) => `e${h.epoch} ${h.kind}: ${h.text}`);
  return {
    server,
    other,
    describePair,
    primaryOf: (pair) =>
      waitFor(
        `${pair} to have exactly one primary`,
        async () => {
          const primaries = (await get().view(pair)).servers.filter((s) => s.role === "primary");
          return primaries.length === 1 ? primaries[0]!.name : undefined;
        },
        { timeoutMs: waitMs, describe: () => describePair(pair) },
      ),
    healthy: (pair, primary, opts = {}) =>
      waitFor(
        `${pair}: ${primary} primary, the other backup, both running${opts.ready ? " and ready for switchover" : ""}`,
        async () => {
          const v = await get().view(pair);
          const p = server(v, primary);
          const b = other(v, primary);
          const ok =
            p.role === "primary" &&
            b.role === "backup" &&
            [p, b].every((s) => s.status === "running" && s.hostConnection === "connected" && (v.haType === "single-host" || s.haLink === "up")) &&
            v.plan === null &&
            (!opts.ready || (p.readyForSwitchover === 1 && b.readyForSwitchover === 1));
          return ok ? v : undefined;
        },
        { timeoutMs: waitMs, describe: () => describePair(pair) },
      ),
    vipOn: async (pair, onHost, offHost) => {
      await waitFor(`${pair}: VIP enabled on ${onHost} and disabled on ${offHost} (lab VIP files)`, () => get().vipFile(pair, onHost) === true && get().vipFile(pair, offHost) === false, {
        timeoutMs: waitMs,
        describe: () => describePair(pair),
      });
    },
    historySince,
    historyMatching: (pair, since, patterns) =>
      waitFor(
        `${pair}'s timeline to show ${patterns.map(String).join(", ")}`,
        async () => {
          const text = (await historySince(pair, since)).join("\n");
          return patterns.every((p) => p.test(text)) ? text : undefined;
        },
        { timeoutMs: waitMs, describe: () => describePair(pair) },
      ),
  };
}
