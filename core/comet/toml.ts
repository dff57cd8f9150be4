/**
 * Edits values in CometBFT's generated config.toml. The file `cometbft init` writes has one `key = value`
 * per line under `[section]` headers; we replace existing keys only, so a typo in a key name is an error
 * instead of a silently ignored setting.
 */

export type TomlValue = string | number | boolean;

function render(value: TomlValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `settings` maps "key" (top level) or "section.key" to a value. */
export function setTomlValues(text: string, settings: Readonly<Record<string, TomlValue>>): string {
  const lines = text.split('\n');
  const pending = new Map(Object.entries(settings));
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      continue;
    }
    const assignment = /^(\s*)([A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (!assignment) continue;
    const name = section === '' ? (assignment[2] as string) : `${section}.${assignment[2] as string}`;
    if (pending.has(name)) {
      lines[i] = `${assignment[1] as string}${assignment[2] as string} = ${render(pending.get(name) as TomlValue)}`;
      pending.delete(name);
    }
  }
  if (pending.size > 0) throw new Error(`config.toml has no keys named ${[...pending.keys()].join(', ')}`);
  return lines.join('\n');
}
