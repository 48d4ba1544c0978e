// Script templates without a shell: a template is split into argv first (quotes group words), then
// placeholders are replaced inside each argument, so a value with spaces or `;` stays one argument
// and can never start a second command.
import { TEMPLATE_PLACEHOLDERS, splitCommandLine } from "../protocol/agent-wire";

export type TemplateValues = Partial<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string>>;

/** The one command-line splitter, shared with the console (protocol/agent-wire.ts). */
export const splitTemplate = splitCommandLine;

/** Replaces {name} placeholders; an unknown or missing placeholder is an error, not an empty string. */
export function substitute(arg: string, values: TemplateValues): string {
  return arg.replace(/\{([a-z]+)\}/g, (whole, name: string) => {
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new Error(`unknown placeholder ${whole} (known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`);
    }
    const value = values[name as keyof TemplateValues];
    if (value === undefined) throw new Error(`placeholder ${whole} has no value for this pair`);
    return value;
  });
}

export function renderTemplate(template: string, values: TemplateValues): string[] {
  const argv = splitTemplate(template).map((a) => substitute(a, values));
  if (argv.length === 0) throw new Error("template is empty");
  return argv;
}
