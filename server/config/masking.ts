// Application environments carry secrets (database passwords, tokens), so only admins — who may export
// them anyway — see their values; viewers and operators see which variables are set. Masked here, on
// the way out of the API, by the caller's role: what the browser never receives it cannot show.
import type { Role } from "../auth/roles";

export const MASKED_VALUE = "••••••••";

function maskedEnvironment(environment: unknown): unknown {
  if (!environment || typeof environment !== "object" || Array.isArray(environment)) return environment;
  return Object.fromEntries(Object.keys(environment).map((name) => [name, MASKED_VALUE]));
}

/** An object with an `environment` (an application, or an application's audit snapshot) as the role may see it. */
export function withEnvironmentFor<T>(value: T, role: Role): T {
  if (role === "admin" || !value || typeof value !== "object" || !("environment" in value)) return value;
  return { ...value, environment: maskedEnvironment(value.environment) };
}

/** An audit entry as the role may see it: environments in its before and after snapshots masked. */
export function auditEntryFor<T extends { before: unknown; after: unknown }>(entry: T, role: Role): T {
  if (role === "admin") return entry;
  return { ...entry, before: withEnvironmentFor(entry.before, role), after: withEnvironmentFor(entry.after, role) };
}
