/**
 * A few DOM helpers. Everything shown comes from the network (node names, errors, addresses), so text is only
 * ever set with textContent, never as HTML.
 */

type Child = Node | string | null | undefined | false;

/** `<tag attr=…>children</tag>`; attributes are set as strings, `class` included. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** The element with `id`; a missing one is a bug in index.html, so it throws. */
export function byId<T extends Element>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`index.html has no <${type.name}> #${id}`);
  return element;
}

/** "4 s ago", "3 min ago", "2 h ago". */
export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return '—';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** 0x1234…abcd */
export function shortHex(hex: string, keep = 6): string {
  return hex.length <= 2 * keep + 3 ? hex : `${hex.slice(0, keep)}…${hex.slice(-4)}`;
}
