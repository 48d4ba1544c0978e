// Users and sessions in the database. Session ids are sha256 of the cookie token.
import type { DbTx } from "../db";

export const userSelect = { id: true, username: true, role: true, disabled: true, createdAt: true, updatedAt: true } as const;

export function countUsers(db: DbTx) {
  return db.user.count();
}

export function findUserByName(db: DbTx, username: string) {
  return db.user.findUnique({ where: { username } });
}

export function findUserById(db: DbTx, id: string) {
  return db.user.findUnique({ where: { id }, select: userSelect });
}

export function listUsers(db: DbTx) {
  return db.user.findMany({ select: userSelect, orderBy: { username: "asc" } });
}

export function createUser(db: DbTx, data: { username: string; passwordHash: string; role: string }) {
  return db.user.create({ data, select: userSelect });
}

export function updateUser(db: DbTx, id: string, data: { role?: string; disabled?: boolean; passwordHash?: string }) {
  return db.user.update({ where: { id }, data, select: userSelect });
}

export function countActiveAdmins(db: DbTx) {
  return db.user.count({ where: { role: "admin", disabled: false } });
}

export function createSession(db: DbTx, data: { id: string; userId: string; expiresAt: Date; ip: string; userAgent: string }) {
  return db.session.create({ data });
}

export function findSession(db: DbTx, id: string) {
  return db.session.findUnique({ where: { id }, select: { id: true, expiresAt: true, lastSeenAt: true, user: { select: userSelect } } });
}

export function touchSession(db: DbTx, id: string, now: Date) {
  return db.session.update({ where: { id }, data: { lastSeenAt: now } });
}

export function deleteSession(db: DbTx, id: string) {
  return db.session.deleteMany({ where: { id } });
}

export function deleteUserSessions(db: DbTx, userId: string) {
  return db.session.deleteMany({ where: { userId } });
}

export function deleteExpiredSessions(db: DbTx, now: Date) {
  return db.session.deleteMany({ where: { expiresAt: { lt: now } } });
}
