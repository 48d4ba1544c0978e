// Roles, lowest to highest; each includes what the ones before it may do.
export const roles = ["viewer", "operator", "admin"] as const;
export type Role = (typeof roles)[number];

export function roleAtLeast(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}
