// Condition alarms derived from the state after every step: raised when their condition starts and
// cancelled when it ends, once each (event alarms are raised by the rules themselves).
import { appName, appOf, durationWord, hostName, isRecovering, maintenanceWords, vipWord } from "./predicates";
import { type AlarmKind } from "./types";
import { servingPrimaries, type Ctx } from "./context";

// ───────────────────────────── alarms derived from the state ─────────────────────────────

interface WantedAlarm {
  kind: AlarmKind;
  appId?: string;
  hostId?: string;
  text: string;
}

/**
 * Alarms that follow a condition are derived from state and raised/cancelled on change, once each.
 * An alarm an earlier controller raised (inherited: the alarm log's at start) is judged only once this
 * one has recovered — before, its hosts may still report, and whether the condition is over is not
 * known: it is kept, and the pair stepped again on the next tick. Returns whether it kept one so.
 */
export function syncAlarms(ctx: Ctx): boolean {
  const { s, pair, ps } = ctx;
  const wanted = new Map<string, WantedAlarm>();
  const want = (a: WantedAlarm): void => {
    wanted.set(`${a.kind}:${a.appId ?? a.hostId ?? pair.id}`, a);
  };
  for (const ref of pair.apps) {
    const host = s.hosts[ref.hostId];
    if (host?.connection === "disconnected") {
      want({ kind: "host-disconnected", hostId: ref.hostId, text: `${ref.hostName} is disconnected` });
    }
    const app = appOf(s, ref.appId);
    if (app.status === "failed") want({ kind: "application-failed", appId: ref.appId, text: `${ref.appName}'s process failed` });
    if (app.status === "service-unavailable") want({ kind: "service-unavailable", appId: ref.appId, text: `${ref.appName} reported SERVICE_UNAVAILABLE (back-off ${app.oosBackoff}x)` });
    // Tied to what the server reports: raised while it says bind-failed, cancelled when it says bound
    // (which also clears the server's own 00-04200 alarm). Unknown (a reconnecting host) keeps it.
    const bindKey = `bind-failed:${ref.appId}`;
    if (app.sipListener === "bind-failed" || (app.sipListener === "unknown" && ps.activeAlarms.includes(bindKey))) {
      want({ kind: "bind-failed", appId: ref.appId, text: `${ref.appName} cannot open its SIP listening port (00-04200)` });
    }
  }
  if (servingPrimaries(ctx).length > 1) want({ kind: "split-brain", text: `both servers of ${pair.name} are primary` });
  for (const v of ps.staleVips) want({ kind: "stale-vip", hostId: v.hostId, text: `stale ${vipWord(pair)} on ${hostName(pair, v.hostId)}` });
  const m = ps.maintenance;
  if (m && s.nowMs - m.sinceMs >= s.timing.maintenanceAlarmAfterMs) {
    want({ kind: "maintenance-too-long", text: `${pair.name} has been in maintenance for ${durationWord(s.nowMs - m.sinceMs)} (${maintenanceWords(ps)}): the controller does not fail it over while it lasts` });
  }

  const active = new Set(ps.activeAlarms);
  for (const [key, a] of wanted) {
    if (active.has(key)) continue;
    ctx.out.commands.push({ type: "raise-alarm", pairId: pair.id, ...a });
  }
  const recovering = isRecovering(s);
  const inherited = new Set(ps.inheritedAlarms);
  const kept: string[] = [];
  for (const key of active) {
    if (wanted.has(key)) continue;
    if (recovering && inherited.has(key)) {
      kept.push(key);
      continue;
    }
    const [kind, subject] = splitKey(key);
    const target = pair.apps.find((r) => r.appId === subject) ? { appId: subject } : subject !== pair.id ? { hostId: subject } : {};
    const who = target.appId ? appName(pair, subject) : target.hostId ? hostName(pair, subject) : pair.name;
    const text = kind === "bind-failed" ? `${who} reports its SIP listener bound` : `${kind.replaceAll("-", " ")} cleared for ${who}`;
    ctx.out.commands.push({ type: "cancel-alarm", kind, pairId: pair.id, ...target, text });
  }
  ps.activeAlarms = [...wanted.keys(), ...kept];
  // Judged: once recovered, every inherited alarm is either wanted (kept as this controller's) or cancelled.
  if (!recovering && ps.inheritedAlarms.length) ps.inheritedAlarms = [];
  return kept.length > 0;
}

function splitKey(key: string): [AlarmKind, string] {
  const i = key.indexOf(":");
  return [key.slice(0, i) as AlarmKind, key.slice(i + 1)];
}
