// Login, sessions, the first admin and user management. Tokens are 32 random bytes in an HttpOnly
// cookie; the database keeps only their sha256. Failed logins are limited by login-limits.ts.
import crypto from "node:crypto";
import type { Db } from "../db";
import { AppError, conflict, invalid, notFound } from "../errors";
import { recordAudit, systemActor, type Actor } from "../audit/audit.repository";
import * as repo from "./auth.repository";
import { decoyHash, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from "./password";
import { isRole, type Role } from "./roles";
import { LoginLimits } from "./login-limits";
import { logger } from "../log";

const log = logger("auth");

export const SESSION_COOKIE = "switchyard_session";

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export interface AuthSettings {
  sessionTtlHours: number;
  loginMaxFailures: number;
  loginWindowSeconds: number;
  /** Shared with the other consoles on PostgreSQL (loginLimitsFor); absent: this process's own, in memory. */
  limits?: LoginLimits;
}

export function sha256(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}

export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 256) return "password must be at most 256 characters";
  return null;
}

/** Sessions that ended while live sockets may still use them: one (logout), or all of a user's. */
export type EndedSessions = { sessionId: string; reason: string } | { userId: string; reason: string };

/** What the web tier hears from the AuthService (wired by the composition root): live sockets follow their session. */
export interface SessionListener {
  sessionsEnded(ended: EndedSessions): void;
}

export class AuthService {
  private readonly limits: LoginLimits;
  private setupTokenHash: string | null = null;
  private readonly sessionListeners = new Set<SessionListener>();

  constructor(
    private readonly db: Db,
    private readonly settings: AuthSettings,
  ) {
    this.limits = settings.limits ?? new LoginLimits(settings);
  }

  /** Adds a listener of ended sessions; returns the function that removes it. */
  subscribe(listener: SessionListener): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /** Called once the change committed: a listener that throws does not undo it or stop the others. */
  private sessionsEnded(ended: EndedSessions): void {
    for (const l of this.sessionListeners) {
      try {
        l.sessionsEnded(ended);
      } catch (err) {
        log.error("a listener of ended sessions failed", { error: String(err) });
      }
    }
  }

  async login(input: { username: string; password: string; ip: string; userAgent: string }): Promise<{ token: string; user: SessionUser; expiresAt: Date }> {
    const username = input.username.trim();
    // Counted as a failure from here on, unless the password turns out right.
    const reservation = await this.limits.reserve(input.ip, username).catch((err: unknown) => {
      if (err instanceof AppError) log.warn("login refused: too many failed logins", { user: username, from: input.ip });
      throw err;
    });
    const user = await repo.findUserByName(this.db, username);
    const ok = user ? await verifyPassword(user.passwordHash, input.password) : (await verifyPassword(await decoyHash(), input.password), false);
    if (!user || !ok || user.disabled || !isRole(user.role)) {
      await recordAudit(this.db, { id: null, name: username || "(empty)" }, {
        action: "user.login-failed",
        objectType: "user",
        objectName: username,
        detail: `from ${input.ip}`,
      });
      // The user name is whatever the caller typed: a field, never part of the sentence.
      log.warn("login failed", { user: username, from: input.ip });
      throw new AppError("UNAUTHENTICATED", "wrong username or password");
    }
    await reservation.refund();
    const token = crypto.randomBytes(32).toString("base64url");
    const expiresAt = new Date(Date.now() + this.settings.sessionTtlHours * 3600_000);
    await this.db.$transaction(async (tx) => {
      await repo.createSession(tx, { id: sha256(token), userId: user.id, expiresAt, ip: input.ip, userAgent: input.userAgent.slice(0, 256) });
      await recordAudit(tx, { id: user.id, name: user.username }, { action: "user.login", objectType: "user", objectId: user.id, objectName: user.username, detail: `from ${input.ip}` });
    });
    return { token, user: { id: user.id, username: user.username, role: user.role }, expiresAt };
  }

  /** The user behind a cookie token, or null when it is unknown, expired or the user is disabled. */
  async userForToken(token: string | undefined): Promise<(SessionUser & { sessionId: string; expiresAt: Date }) | null> {
    if (!token) return null;
    const id = sha256(token);
    const session = await repo.findSession(this.db, id);
    const now = new Date();
    if (!session || session.expiresAt <= now || session.user.disabled || !isRole(session.user.role)) return null;
    if (now.getTime() - session.lastSeenAt.getTime() > 60_000) await repo.touchSession(this.db, id, now);
    return { id: session.user.id, username: session.user.username, role: session.user.role, sessionId: id, expiresAt: session.expiresAt };
  }

  async logout(sessionId: string, actor: Actor): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await repo.deleteSession(tx, sessionId);
      await recordAudit(tx, actor, { action: "user.logout", objectType: "user", objectId: actor.id, objectName: actor.name });
    });
    this.sessionsEnded({ sessionId, reason: "logged out" });
  }

  // ---- first admin ----------------------------------------------------------------------------

  /**
   * On first start (no users): creates the admin named in the environment, or returns a one-time
   * setup token to print as a link. Never a default password.
   */
  async bootstrap(envAdmin: { username?: string; password?: string }): Promise<{ kind: "exists" } | { kind: "created"; username: string } | { kind: "setup"; token: string }> {
    if ((await repo.countUsers(this.db)) > 0) return { kind: "exists" };
    if (envAdmin.username && envAdmin.password) {
      try {
        await this.createUser(systemActor, { username: envAdmin.username, password: envAdmin.password, role: "admin" });
      } catch (err) {
        // Several consoles started together on one database: another one created it first.
        if ((await repo.countUsers(this.db)) > 0) return { kind: "exists" };
        throw err;
      }
      return { kind: "created", username: envAdmin.username };
    }
    const token = crypto.randomBytes(24).toString("base64url");
    this.setupTokenHash = sha256(token);
    return { kind: "setup", token };
  }

  /**
   * A given admin as given, on a database that may already hold it (the lab's fixed admin): created,
   * or reset only where it differs (password, role, disabled). A reset ends the user's sessions, so
   * an admin that already matches is left alone and its sessions stay.
   */
  async ensureAdmin(admin: { username: string; password: string }): Promise<"created" | "reset" | "unchanged"> {
    const user = await repo.findUserByName(this.db, admin.username);
    if (!user) {
      await this.createUser(systemActor, { username: admin.username, password: admin.password, role: "admin" });
      return "created";
    }
    if (!user.disabled && user.role === "admin" && (await verifyPassword(user.passwordHash, admin.password))) return "unchanged";
    await this.updateUser(systemActor, user.id, { password: admin.password, disabled: false, role: "admin" });
    return "reset";
  }

  async setupNeeded(): Promise<boolean> {
    return (await repo.countUsers(this.db)) === 0;
  }

  async completeSetup(input: { token: string; username: string; password: string }): Promise<SessionUser> {
    if (!this.setupTokenHash || sha256(input.token) !== this.setupTokenHash || (await repo.countUsers(this.db)) > 0) {
      throw new AppError("FORBIDDEN", "this setup link is not valid (already used, or the console restarted and printed a new one)");
    }
    const user = await this.createUser(systemActor, { username: input.username, password: input.password, role: "admin" });
    this.setupTokenHash = null;
    return user;
  }

  // ---- users (admin) --------------------------------------------------------------------------

  async createUser(actor: Actor, input: { username: string; password: string; role: Role }): Promise<SessionUser> {
    const problem = passwordProblem(input.password);
    if (problem) throw invalid(`user ${input.username}: ${problem}`, [{ path: "password", message: problem }]);
    const passwordHash = await hashPassword(input.password);
    return this.db.$transaction(async (tx) => {
      if (await repo.findUserByName(tx, input.username)) throw conflict(`a user named ${input.username} already exists`, [{ path: "username", message: "already exists" }]);
      const user = await repo.createUser(tx, { username: input.username, passwordHash, role: input.role });
      await recordAudit(tx, actor, { action: "user.create", objectType: "user", objectId: user.id, objectName: user.username, after: { role: user.role } });
      return { id: user.id, username: user.username, role: input.role };
    });
  }

  async updateUser(actor: Actor, id: string, input: { role?: Role; disabled?: boolean; password?: string }): Promise<void> {
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw invalid(problem, [{ path: "password", message: problem }]);
    }
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
    const { before, after } = await this.db.$transaction(async (tx) => {
      const before = await repo.findUserById(tx, id);
      if (!before) throw notFound(`user ${id}`);
      const losesAdmin = before.role === "admin" && !before.disabled && ((input.role && input.role !== "admin") || input.disabled === true);
      if (losesAdmin && (await repo.countActiveAdmins(tx)) <= 1) {
        throw conflict(`user ${before.username} is the last active admin; make another admin first`);
      }
      const after = await repo.updateUser(tx, id, { role: input.role, disabled: input.disabled, passwordHash });
      if (input.disabled || passwordHash) await repo.deleteUserSessions(tx, id);
      await recordAudit(tx, actor, {
        action: "user.update",
        objectType: "user",
        objectId: id,
        objectName: before.username,
        before: { role: before.role, disabled: before.disabled },
        after: { role: after.role, disabled: after.disabled },
        detail: passwordHash ? "password changed" : "",
      });
      return { before, after };
    });
    // A disabled user or a changed password ended the sessions above; a role change keeps them (each
    // request reads the role again) but a live socket holds the role it connected with.
    const why = [after.disabled && !before.disabled ? "user disabled" : "", passwordHash ? "password changed" : "", after.role !== before.role ? "role changed" : ""].filter(Boolean);
    if (why.length) this.sessionsEnded({ userId: id, reason: why.join(", ") });
  }

  listUsers() {
    return repo.listUsers(this.db);
  }
}
