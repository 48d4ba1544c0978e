"use client";
// Alarm conditions and their reactions. Everyone reads them; admins create, edit, disable and delete
// (built-in conditions can be edited and disabled, not deleted). Reaction settings are edited as JSON
// with a template per kind; the server checks them and names the setting that is wrong.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Select, Table, Textarea } from "@/components/ui";
import { SeverityBadge } from "./alarms-page";
import { controllerAlarmKinds } from "@/protocol/vocabulary";

type Condition = RouterOutputs["alarms"]["conditions"]["list"][number];
type Reaction = RouterOutputs["alarms"]["reactions"]["list"][number];

const severities = ["critical", "major", "minor"] as const;
const scopeKinds = ["all", "type", "applications", "hosts"] as const;
const reactionKinds = ["webhook", "email", "command", "switchover"] as const;
// One vocabulary with the console (protocol/vocabulary.ts): a new alarm kind shows up here by itself.
const controllerKinds = controllerAlarmKinds;

const settingsTemplates: Record<(typeof reactionKinds)[number], string> = {
  webhook: '{ "url": "https://hooks.example.com/alarms", "timeoutMs": 5000, "retries": 2 }',
  email: '{ "to": ["oncall@example.com"], "from": "switchyard@example.com", "smtpHost": "smtp.example.com", "smtpPort": 25 }',
  command: '{ "host": "host-1", "command": "/usr/local/bin/notify --alarm \\"disk full\\"" }',
  switchover: "{}",
};

interface ConditionForm {
  source: "event" | "controller";
  eventId: string;
  controllerKind: (typeof controllerKinds)[number];
  scopeKind: (typeof scopeKinds)[number];
  scopeValues: string;
  severity: (typeof severities)[number];
  cancelEventId: string;
  autoClearSeconds: string;
  description: string;
  enabled: boolean;
}

const emptyForm: ConditionForm = { source: "event", eventId: "", controllerKind: "host-disconnected", scopeKind: "all", scopeValues: "", severity: "major", cancelEventId: "", autoClearSeconds: "", description: "", enabled: true };

function toForm(c: Condition): ConditionForm {
  return {
    source: c.eventId ? "event" : "controller",
    eventId: c.eventId ?? "",
    controllerKind: (c.controllerKind as ConditionForm["controllerKind"]) ?? "host-disconnected",
    scopeKind: c.scopeKind,
    scopeValues: c.scopeValues.join(", "),
    severity: c.severity,
    cancelEventId: c.cancelEventId ?? "",
    autoClearSeconds: c.autoClearSeconds === null ? "" : String(c.autoClearSeconds),
    description: c.description,
    enabled: c.enabled,
  };
}

function scopeText(c: Condition): string {
  return c.scopeKind === "all" ? "all applications" : `${c.scopeKind}: ${c.scopeValues.join(", ")}`;
}

function ConditionEditor({ editing, onDone }: { editing: Condition | null; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [f, setF] = useState<ConditionForm>(editing ? toForm(editing) : emptyForm);
  const done = () => (void queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() }), onDone());
  const create = useMutation(trpc.alarms.conditions.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.alarms.conditions.update.mutationOptions({ onSuccess: done }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const condition = {
      eventId: f.source === "event" ? f.eventId.trim() : null,
      controllerKind: f.source === "controller" ? f.controllerKind : null,
      scopeKind: f.scopeKind,
      scopeValues: f.scopeKind === "all" ? [] : f.scopeValues.split(",").map((s) => s.trim()).filter(Boolean),
      severity: f.severity,
      cancelEventId: f.source === "event" && f.cancelEventId.trim() ? f.cancelEventId.trim() : null,
      autoClearSeconds: f.autoClearSeconds.trim() ? Number(f.autoClearSeconds) : null,
      description: f.description,
      enabled: f.enabled,
    };
    if (editing) update.mutate({ id: editing.id, condition });
    else create.mutate(condition);
  };
  const m = editing ? update : create;
  return (
    <Card title={editing ? "Edit alarm condition" : "New alarm condition"} className="mb-4">
      <form aria-label="Alarm condition" onSubmit={submit} className="grid grid-cols-1 gap-3 md:grid-cols-3">
        <Field label="Raised by">
          {(id) => (
            <Select id={id} value={f.source} disabled={!!editing?.builtIn} onChange={(e) => setF({ ...f, source: e.target.value as ConditionForm["source"] })}>
              <option value="event">a log event</option>
              <option value="controller">the controller</option>
            </Select>
          )}
        </Field>
        {f.source === "event" ? (
          <>
            <Field label="Event id">{(id) => <Input id={id} placeholder="00-04200" value={f.eventId} disabled={!!editing?.builtIn} onChange={(e) => setF({ ...f, eventId: e.target.value })} />}</Field>
            <Field label="Cancel event id" hint="optional: clears the alarm of the same application">
              {(id) => <Input id={id} placeholder="00-52030" value={f.cancelEventId} onChange={(e) => setF({ ...f, cancelEventId: e.target.value })} />}
            </Field>
          </>
        ) : (
          <Field label="Controller alarm">
            {(id) => (
              <Select id={id} value={f.controllerKind} disabled={!!editing?.builtIn} onChange={(e) => setF({ ...f, controllerKind: e.target.value as ConditionForm["controllerKind"] })}>
                {controllerKinds.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </Select>
            )}
          </Field>
        )}
        <Field label="Severity">
          {(id) => (
            <Select id={id} value={f.severity} onChange={(e) => setF({ ...f, severity: e.target.value as ConditionForm["severity"] })}>
              {severities.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Scope">
          {(id) => (
            <Select id={id} value={f.scopeKind} onChange={(e) => setF({ ...f, scopeKind: e.target.value as ConditionForm["scopeKind"] })}>
              {scopeKinds.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          )}
        </Field>
        {f.scopeKind !== "all" && (
          <Field label="Scope values" hint="comma-separated application types, application names or host names">
            {(id) => <Input id={id} value={f.scopeValues} onChange={(e) => setF({ ...f, scopeValues: e.target.value })} />}
          </Field>
        )}
        <Field label="Auto-clear after (seconds)" hint="optional: cleared when not seen for this long">
          {(id) => <Input id={id} inputMode="numeric" value={f.autoClearSeconds} onChange={(e) => setF({ ...f, autoClearSeconds: e.target.value })} />}
        </Field>
        <Field label="Description">{(id) => <Input id={id} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />}</Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} /> Enabled
        </label>
        <div className="flex gap-2 md:col-span-3">
          <Button type="submit" disabled={m.isPending}>
            Save condition
          </Button>
          <Button variant="ghost" onClick={onDone}>
            Cancel
          </Button>
        </div>
        <div className="md:col-span-3">
          <ErrorBox error={m.error} />
        </div>
      </form>
    </Card>
  );
}

function Reactions({ condition, reactions, isAdmin }: { condition: Condition; reactions: Reaction[]; isAdmin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() });
  const [kind, setKind] = useState<(typeof reactionKinds)[number]>("webhook");
  const [settings, setSettings] = useState(settingsTemplates.webhook);
  const [onClear, setOnClear] = useState(false);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const create = useMutation(trpc.alarms.reactions.create.mutationOptions({ onSuccess: () => refresh() }));
  const remove = useMutation(trpc.alarms.reactions.delete.mutationOptions({ onSuccess: () => refresh() }));
  const add = (e: FormEvent) => {
    e.preventDefault();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(settings) as Record<string, unknown>;
      setJsonError(null);
    } catch (err) {
      setJsonError(`settings are not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    create.mutate({ conditionId: condition.id, kind, onClear, settings: parsed });
  };
  return (
    <div className="text-xs">
      {reactions.length === 0 && <span className="text-slate-500">no reactions</span>}
      <ul className="space-y-1">
        {reactions.map((r) => (
          <li key={r.id} className="flex items-center gap-2">
            <Badge tone={r.kind === "command" ? "amber" : "blue"}>{r.kind}</Badge>
            <code className="break-all">{JSON.stringify(r.settings)}</code>
            {r.onClear && <span>(also on clear)</span>}
            {r.kind === "command" && <span className="text-amber-800">runs without a shell on that host, only if its agent was started with --allow-os-commands</span>}
            {isAdmin && (
              <Button variant="ghost" onClick={() => remove.mutate({ id: r.id })} aria-label={`Delete ${r.kind} reaction`}>
                Delete
              </Button>
            )}
          </li>
        ))}
      </ul>
      {isAdmin && (
        <form aria-label={`Add reaction to ${condition.eventId ?? condition.controllerKind}`} onSubmit={add} className="mt-2 flex flex-wrap items-end gap-2">
          <Field label="Reaction">
            {(id) => (
              <Select
                id={id}
                value={kind}
                onChange={(e) => {
                  const k = e.target.value as (typeof reactionKinds)[number];
                  setKind(k);
                  setSettings(settingsTemplates[k]);
                }}
              >
                {reactionKinds.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Settings (JSON)">{(id) => <Textarea id={id} rows={2} className="w-96 text-xs" value={settings} onChange={(e) => setSettings(e.target.value)} />}</Field>
          <label className="flex items-center gap-1">
            <input type="checkbox" checked={onClear} onChange={(e) => setOnClear(e.target.checked)} /> also on clear
          </label>
          <Button type="submit" variant="secondary" disabled={create.isPending}>
            Add reaction
          </Button>
          <div className="w-full">
            {jsonError && (
              <div role="alert" className="text-red-700">
                {jsonError}
              </div>
            )}
            <ErrorBox error={create.error ?? remove.error} />
          </div>
        </form>
      )}
    </div>
  );
}

export function ConditionsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const isAdmin = useIsAdmin();
  const conditions = useQuery(trpc.alarms.conditions.list.queryOptions());
  const reactions = useQuery(trpc.alarms.reactions.list.queryOptions({}));
  const [editing, setEditing] = useState<Condition | "new" | null>(null);
  const remove = useMutation(trpc.alarms.conditions.delete.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() }) }));
  return (
    <>
      <PageTitle actions={isAdmin && <Button onClick={() => setEditing("new")}>New condition</Button>}>Alarm conditions</PageTitle>
      {editing && <ConditionEditor key={editing === "new" ? "new" : editing.id} editing={editing === "new" ? null : editing} onDone={() => setEditing(null)} />}
      <Card>
        <ErrorBox error={conditions.error ?? remove.error} />
        {conditions.isLoading ? (
          <Loading what="alarm conditions" />
        ) : (
          <Table head={["Raised by", "Severity", "Scope", "Cancel / auto-clear", "Description", "Reactions", ""]} caption="Alarm conditions">
            {(conditions.data ?? []).map((c) => (
              <tr key={c.id} data-testid={`condition-row-${c.eventId ?? c.controllerKind}`} className={c.enabled ? "" : "opacity-60"}>
                <td className="px-2 py-2 align-top font-mono text-xs">
                  {c.eventId ?? `controller: ${c.controllerKind}`}
                  {c.builtIn && (
                    <div>
                      <Badge>built in</Badge>
                    </div>
                  )}
                  {!c.enabled && (
                    <div>
                      <Badge tone="amber">disabled</Badge>
                    </div>
                  )}
                </td>
                <td className="px-2 py-2 align-top">
                  <SeverityBadge severity={c.severity} />
                </td>
                <td className="px-2 py-2 align-top text-xs">{scopeText(c)}</td>
                <td className="px-2 py-2 align-top text-xs">
                  {c.cancelEventId ? `cancelled by ${c.cancelEventId}` : ""}
                  {c.autoClearSeconds !== null ? ` auto-clear ${c.autoClearSeconds} s` : ""}
                  {!c.cancelEventId && c.autoClearSeconds === null ? "cleared by hand" : ""}
                </td>
                <td className="px-2 py-2 align-top text-sm">{c.description}</td>
                <td className="px-2 py-2 align-top">
                  <Reactions condition={c} reactions={(reactions.data ?? []).filter((r) => r.conditionId === c.id)} isAdmin={isAdmin} />
                </td>
                <td className="px-2 py-2 align-top">
                  {isAdmin && (
                    <div className="flex gap-1">
                      <Button variant="secondary" onClick={() => setEditing(c)}>
                        Edit
                      </Button>
                      {!c.builtIn && (
                        <Button variant="ghost" onClick={() => remove.mutate({ id: c.id })}>
                          Delete
                        </Button>
                      )}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </>
  );
}
