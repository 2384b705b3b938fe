/** DOM building without innerHTML: every value from the router (authids, topics, values) goes in as text. */

type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string | number | boolean | undefined>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, children: readonly Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** "3 s", "4 min", "2 h", "5 d" ago. */
export function age(since: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - since) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

export function bytes(count: number): string {
  if (count >= 1 << 30) return `${(count / (1 << 30)).toFixed(1)} GiB`;
  if (count >= 1 << 20) return `${(count / (1 << 20)).toFixed(1)} MiB`;
  if (count >= 1 << 10) return `${(count / (1 << 10)).toFixed(1)} KiB`;
  return `${count} B`;
}

/**
 * A value for a table cell or the viewer: JSON, with WAMP's binary strings ("\0" + base64) shown as bytes.
 * `limit` cuts long text.
 */
export function showValue(value: unknown, indent?: number, limit = Infinity): string {
  const text =
    typeof value === 'string' && value.charCodeAt(0) === 0
      ? `bytes (base64) ${value.slice(1)}`
      : (JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' && item.charCodeAt(0) === 0 ? `<bytes ${item.slice(1)}>` : item), indent) ??
        'undefined');
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
