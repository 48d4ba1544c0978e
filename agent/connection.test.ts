// Unit tests for the console connection: the reconnect back-off, and (with a fake socket and fake
// timers) the walk through several console URLs of a highly available console: rotation, a follower's
// redirect followed only inside the list, the short retry after not-leader, a deposed leader's welcome.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AGENT_PROTOCOL_VERSION, type Refusal, type Welcome } from "../protocol/agent-wire";
import { backoffDelayMs, ConsoleConnection, NOT_LEADER_RETRY_MS, type ConnectionOptions, type SocketFactory } from "./connection";
import { TermStore } from "./term-store";

describe("backoffDelayMs", () => {
  const opts = { initialBackoffMs: 100, maxBackoffMs: 5000 };
  it("doubles per attempt with jitter between half and all of the step", () => {
    expect(backoffDelayMs(0, opts, () => 0)).toBe(50);
    expect(backoffDelayMs(0, opts, () => 1)).toBe(100);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(800);
  });
  it("never exceeds the maximum, however many attempts", () => {
    expect(backoffDelayMs(1000, opts, () => 1)).toBe(5000);
    expect(backoffDelayMs(1000, opts, () => 0)).toBe(2500);
  });
});

/** A socket.io client socket as the connection uses it: the test plays the console's side. */
class FakeSocket {
  readonly listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  disconnected = false;
  constructor(readonly url: string) {}
  on(event: string, fn: (...args: unknown[]) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  emit(): this {
    return this;
  }
  timeout(): this {
    return this;
  }
  disconnect(): this {
    this.disconnected = true;
    return this;
  }
  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }
  /** The console does something: an event reaches the connection's handlers. */
  fire(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
  refuse(refusal: Refusal): void {
    this.fire("connect_error", Object.assign(new Error(refusal.message), { data: refusal }));
  }
  unreachable(): void {
    this.fire("connect_error", new Error("xhr poll error"));
  }
  welcome(term: number): void {
    this.fire("connect");
    const w: Welcome = { protocolVersion: AGENT_PROTOCOL_VERSION, hostName: "h1", consoleVersion: "t", heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2000, consoleTimeMs: Date.now(), term };
    this.fire("welcome", w);
  }
}

const A = "http://console-a:3001";
const B = "http://console-b:3001";
const C = "https://console-c:3001";

function harness(urls: string[], terms = new TermStore(null)) {
  const sockets: FakeSocket[] = [];
  const lines: string[] = [];
  const connected: Welcome[] = [];
  const connect: SocketFactory = (url) => {
    const s = new FakeSocket(url);
    sockets.push(s);
    return s as unknown as ReturnType<SocketFactory>;
  };
  const opts: ConnectionOptions = {
    consoleUrls: urls,
    terms,
    hello: { hostName: "h1", token: "t".repeat(16), agentVersion: "test" },
    initialBackoffMs: 100,
    maxBackoffMs: 10_000,
    handlers: { config: () => {}, command: () => {}, readLog: () => {}, protocolError: () => {} },
    onConnected: (w) => connected.push(w),
    onDisconnected: () => {},
    onStateChange: () => {},
    log: (line) => lines.push(line),
    connect,
    random: () => 1,
  };
  const conn = new ConsoleConnection(opts);
  /** Where the sockets went, by console (the namespace path stripped). */
  const tried = () => sockets.map((s) => new URL(s.url).origin);
  const last = () => sockets[sockets.length - 1]!;
  return { conn, sockets, lines, connected, tried, last, terms };
}

describe("ConsoleConnection with several console URLs", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("tries the next URL at once after a failure and backs off only after a whole round failed", () => {
    const h = harness([A, B, C]);
    h.conn.start();
    expect(h.tried()).toEqual([A]);
    h.last().unreachable();
    expect(h.tried()).toEqual([A, B]);
    h.last().unreachable();
    expect(h.tried()).toEqual([A, B, C]);
    h.last().unreachable();
    // Every console failed: now the back-off (first step: 100 ms with this jitter), then from the top.
    expect(h.conn.state).toBe("backing-off");
    vi.advanceTimersByTime(99);
    expect(h.tried()).toEqual([A, B, C]);
    vi.advanceTimersByTime(1);
    expect(h.tried()).toEqual([A, B, C, A]);
    // The second round that fails in a row waits twice as long.
    h.last().unreachable();
    h.last().unreachable();
    h.last().unreachable();
    vi.advanceTimersByTime(199);
    expect(h.sockets).toHaveLength(6);
    vi.advanceTimersByTime(1);
    expect(h.tried()).toEqual([A, B, C, A, B, C, A]);
    h.conn.stop();
  });

  it("a lost connection moves to the next URL at once, and a welcome starts the rounds afresh", () => {
    const h = harness([A, B]);
    h.conn.start();
    h.last().unreachable();
    h.last().welcome(1);
    expect(h.conn.state).toBe("connected");
    expect(h.conn.connectedUrl()).toBe(B);
    expect(h.conn.reason).toBe(`connected to ${B} (leadership term 1) as h1`);
    h.last().fire("disconnect", "transport close");
    expect(h.tried()).toEqual([A, B, A]);
    expect(h.conn.state).toBe("connecting");
    // B's loss is the first failure of a new round (A's failure before B's welcome is forgotten):
    // A failing now ends it, so B is tried again after the back-off, not at once.
    h.last().unreachable();
    expect(h.conn.state).toBe("backing-off");
    vi.advanceTimersByTime(100);
    expect(h.tried()).toEqual([A, B, A, B]);
    h.conn.stop();
  });

  it("with one URL, every failure is a whole round: the back-off as before", () => {
    const h = harness([A]);
    h.conn.start();
    h.last().unreachable();
    expect(h.conn.state).toBe("backing-off");
    expect(h.sockets).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(h.tried()).toEqual([A, A]);
    h.conn.stop();
  });

  it("follows a follower's redirect at once when the leader is one of its URLs (compared by origin)", () => {
    const h = harness([A, B, C]);
    h.conn.start();
    // Same origin as C, written differently (upper case, a path): still C, and C as configured is used.
    h.last().refuse({ code: "not-leader", message: "a follower", leaderUrl: "https://CONSOLE-C:3001/somewhere" });
    expect(h.tried()).toEqual([A, C]);
    expect(h.last().url).toBe(`${C}/agent`);
    h.last().welcome(2);
    expect(h.conn.connectedUrl()).toBe(C);
    expect(h.lines).toContain(`connection connecting: console at ${A} is a follower; the leader is at ${C}; connecting to ${C}`);
    h.conn.stop();
  });

  it("never follows a redirect outside its URLs: says so, and goes on with the next URL after the short wait", () => {
    const h = harness([A, B]);
    h.conn.start();
    h.last().refuse({ code: "not-leader", message: "this console is a follower; the leader is at http://elsewhere:3001", leaderUrl: "http://elsewhere:3001" });
    expect(h.lines).toContain(`console at ${A} says the leader is at http://elsewhere:3001, which is not one of the console URLs this agent was given (--console); not followed`);
    expect(h.tried()).toEqual([A]);
    vi.advanceTimersByTime(NOT_LEADER_RETRY_MS - 1);
    expect(h.tried()).toEqual([A]);
    vi.advanceTimersByTime(1);
    expect(h.tried()).toEqual([A, B]);
    expect(h.sockets.some((s) => s.url.includes("elsewhere"))).toBe(false);
    h.conn.stop();
  });

  it("after not-leader without a usable leader, retries after the short wait, never the long refused back-off", () => {
    const h = harness([A, B]);
    h.conn.start();
    h.last().refuse({ code: "not-leader", message: "this console is a follower and no console leads right now", leaderUrl: null });
    expect(h.conn.state).toBe("backing-off");
    vi.advanceTimersByTime(NOT_LEADER_RETRY_MS);
    expect(h.tried()).toEqual([A, B]);
    // B names A, which already said it does not lead in this round: no ping-pong, the round is over;
    // the wait is the short one or the round's back-off, whichever is longer (here the short one).
    h.last().refuse({ code: "not-leader", message: "a follower", leaderUrl: A });
    expect(h.conn.state).toBe("backing-off");
    vi.advanceTimersByTime(NOT_LEADER_RETRY_MS - 1);
    expect(h.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(h.tried()).toEqual([A, B, A]);
    h.conn.stop();
  });

  it("a bad token is still refused at the longest back-off", () => {
    const h = harness([A, B]);
    h.conn.start();
    h.last().refuse({ code: "bad-token", message: "host h1: agent token is unknown or revoked" });
    expect(h.conn.state).toBe("refused");
    vi.advanceTimersByTime(9_999);
    expect(h.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(h.tried()).toEqual([A, B]);
    h.conn.stop();
  });

  it("refuses the welcome of a deposed leader (a term older than the highest seen) and tries the next console", () => {
    const terms = new TermStore(null);
    terms.observe(7);
    const h = harness([A, B], terms);
    h.conn.start();
    const deposed = h.last();
    deposed.welcome(6);
    expect(deposed.disconnected).toBe(true);
    expect(h.connected).toEqual([]);
    expect(h.lines).toContain(`console at ${A} leads term 6 but term 7 was already seen (a deposed leader); trying the next console`);
    expect(h.tried()).toEqual([A, B]);
    // The leader of a newer term is taken, and its term becomes the highest seen.
    h.last().welcome(8);
    expect(h.conn.connectedUrl()).toBe(B);
    expect(h.connected.map((w) => w.term)).toEqual([8]);
    expect(terms.highest()).toBe(8);
    h.conn.stop();
  });
});
