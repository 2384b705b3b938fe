import type { TopicPattern } from './topic-pattern.js';

/** A trie node: one per literal level; `any` is the child for a one-level wildcard. */
class Node<T> {
  readonly children = new Map<string, Node<T>>();
  any: Node<T> | undefined;
  /** Values whose pattern ends exactly here. */
  readonly here = new Set<T>();
  /** Values whose pattern ends here with a multi-level wildcard: this topic and everything below. */
  readonly rest = new Set<T>();
  /** Prefix patterns ending here, keyed by the partial component the next level must start with. */
  prefixes: Map<string, Set<T>> | undefined;

  isEmpty(): boolean {
    return (
      this.children.size === 0 &&
      this.any === undefined &&
      this.here.size === 0 &&
      this.rest.size === 0 &&
      (this.prefixes === undefined || this.prefixes.size === 0)
    );
  }
}

/**
 * One index for every kind of pattern: exact topics, one-level and multi-level wildcards, and WAMP's string
 * prefixes. A lookup walks at most the topic's levels along literal and wildcard branches, so its cost is
 * O(levels × wildcard branches), independent of how many patterns are stored.
 *
 * Wildcards at the first level never match a topic starting with `$` (MQTT's rule for `$SYS` and the like).
 */
export class TopicIndex<T> {
  private readonly root = new Node<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(pattern: TopicPattern, value: T): void {
    const node = this.nodeFor(pattern.levels, true)!;
    const set = this.terminalSet(node, pattern, true)!;
    if (!set.has(value)) {
      set.add(value);
      this.count++;
    }
  }

  /** Removes `value` under `pattern`; returns whether it was there. Prunes nodes that became empty. */
  delete(pattern: TopicPattern, value: T): boolean {
    const path: Node<T>[] = [this.root];
    let node: Node<T> | undefined = this.root;
    for (const level of pattern.levels) {
      node = level === null ? node.any : node.children.get(level);
      if (node === undefined) return false;
      path.push(node);
    }
    const set = this.terminalSet(node, pattern, false);
    if (set === undefined || !set.delete(value)) return false;
    this.count--;
    if (pattern.kind === 'prefix' && set.size === 0) node.prefixes!.delete(pattern.partial);
    this.prune(path, pattern.levels);
    return true;
  }

  /** Calls `visit` once per stored value whose pattern matches the concrete topic `levels`. */
  match(levels: readonly string[], visit: (value: T) => void): void {
    if (this.count === 0) return;
    const dollar = levels.length > 0 && levels[0]!.startsWith('$');
    this.walk(this.root, levels, 0, dollar, visit);
  }

  private walk(node: Node<T>, levels: readonly string[], i: number, dollar: boolean, visit: (value: T) => void): void {
    const wildcardsAllowed = !(dollar && i === 0);
    if (node.rest.size > 0 && wildcardsAllowed) node.rest.forEach(visit);
    // No `$` check for prefixes: a first-level prefix is never empty, so one that matches a `$` topic spells out
    // the `$` itself (`$SY` for `$SYS.x`), as a literal would.
    if (node.prefixes !== undefined && i < levels.length) {
      const level = levels[i]!;
      for (const [partial, values] of node.prefixes) {
        if (level.startsWith(partial)) values.forEach(visit);
      }
    }
    if (i === levels.length) {
      node.here.forEach(visit);
      return;
    }
    const child = node.children.get(levels[i]!);
    if (child !== undefined) this.walk(child, levels, i + 1, dollar, visit);
    if (node.any !== undefined && wildcardsAllowed) this.walk(node.any, levels, i + 1, dollar, visit);
  }

  private nodeFor(levels: readonly (string | null)[], create: boolean): Node<T> | undefined {
    let node = this.root;
    for (const level of levels) {
      let next = level === null ? node.any : node.children.get(level);
      if (next === undefined) {
        if (!create) return undefined;
        next = new Node<T>();
        if (level === null) node.any = next;
        else node.children.set(level, next);
      }
      node = next;
    }
    return node;
  }

  private terminalSet(node: Node<T>, pattern: TopicPattern, create: boolean): Set<T> | undefined {
    if (pattern.kind === 'levels') return pattern.rest ? node.rest : node.here;
    let set = node.prefixes?.get(pattern.partial);
    if (set === undefined && create) {
      node.prefixes ??= new Map();
      set = new Set();
      node.prefixes.set(pattern.partial, set);
    }
    return set;
  }

  private prune(path: Node<T>[], levels: readonly (string | null)[]): void {
    for (let depth = levels.length; depth > 0; depth--) {
      const node = path[depth]!;
      if (!node.isEmpty()) return;
      const parent = path[depth - 1]!;
      const level = levels[depth - 1]!;
      if (level === null) parent.any = undefined;
      else parent.children.delete(level);
    }
  }
}
