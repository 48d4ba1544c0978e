// Script templates without a shell: a template is split into argv first (quotes group words), then
// placeholders are replaced inside each argument, so a value with spaces or `;` stays one argument
// and can never start a second command.
import { TEMPLATE_PLACEHOLDERS } from "../protocol/agent-wire";

export type TemplateValues = Partial<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string>>;

/** Splits like a POSIX shell would for plain words and '…' / "…" quotes (no expansion, no escapes but \" and \\ in double quotes). */
export function splitTemplate(template: string): string[] {
  const out: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else if (quote === '"' && ch === "\\" && (template[i + 1] === '"' || template[i + 1] === "\\")) {
        current += template[++i];
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`template has an unclosed ${quote} quote: ${template}`);
  if (inWord) out.push(current);
  return out;
}

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
