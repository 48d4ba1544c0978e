"use client";
// The roles, lowest first, and a select of them: users and API tokens are given roles the same way.
import { Select } from "@/components/ui";

export const roles = ["viewer", "operator", "admin"] as const;
export type Role = (typeof roles)[number];
export const roleMeaning: Record<Role, string> = { viewer: "reads everything", operator: "also switches over and clears alarms", admin: "everything" };

export function RoleSelect({ id, value, onChange, label }: { id?: string; value: Role; onChange: (role: Role) => void; label?: string }) {
  return (
    <Select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {roles.map((r) => (
        <option key={r}>{r}</option>
      ))}
    </Select>
  );
}
