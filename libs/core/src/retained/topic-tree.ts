import type { TopicPattern } from '../router/topic-pattern.js';

class TreeNode<V> {
  readonly children = new Map<string, TreeNode<V>>();
  value: V | undefined;
}

/**
 * Concrete topics (level arrays) mapped to values, searchable by pattern: the reverse of `TopicIndex`,
 * used to find the retained entries a new subscription matches. A search visits only the branches the
 * pattern can match. Wildcards at the first level skip topics starting with `$`, as in `TopicIndex`.
 */
export class TopicTree<V> {
  private readonly root = new TreeNode<V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(levels: readonly string[]): V | undefined {
    let node: TreeNode<V> | undefined = this.root;
    for (const level of levels) {
      node = node.children.get(level);
      if (node === undefined) return undefined;
    }
    return node.value;
  }

  set(levels: readonly string[], value: V): void {
    let node = this.root;
    for (const level of levels) {
      let next = node.children.get(level);
      if (next === undefined) {
        next = new TreeNode<V>();
        node.children.set(level, next);
      }
      node = next;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  delete(levels: readonly string[]): boolean {
    const path: TreeNode<V>[] = [this.root];
    let node = this.root;
    for (const level of levels) {
      const next = node.children.get(level);
      if (next === undefined) return false;
      path.push(next);
      node = next;
    }
    if (node.value === undefined) return false;
    node.value = undefined;
    this.count--;
    for (let depth = levels.length; depth > 0; depth--) {
      const current = path[depth]!;
      if (current.value !== undefined || current.children.size > 0) break;
      path[depth - 1]!.children.delete(levels[depth - 1]!);
    }
    return true;
  }

  /** Every value whose topic matches `pattern`. */
  find(pattern: TopicPattern): V[] {
    const found: V[] = [];
    if (pattern.kind === 'prefix') {
      const node = this.descend(pattern.levels);
      if (node === undefined) return found;
      const atRoot = pattern.levels.length === 0;
      for (const [level, child] of node.children) {
        if (level.startsWith(pattern.partial) && !(atRoot && level.startsWith('$'))) collectAll(child, found);
      }
      return found;
    }
    this.walk(this.root, pattern.levels, 0, pattern.rest, found);
    return found;
  }

  values(): V[] {
    const found: V[] = [];
    collectAll(this.root, found);
    return found;
  }

  private descend(levels: readonly string[]): TreeNode<V> | undefined {
    let node: TreeNode<V> | undefined = this.root;
    for (const level of levels) {
      node = node.children.get(level);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private walk(node: TreeNode<V>, levels: readonly (string | null)[], i: number, rest: boolean, found: V[]): void {
    if (i === levels.length) {
      if (!rest) {
        if (node.value !== undefined) found.push(node.value);
        return;
      }
      // `#` matches the parent itself and everything below, but a root `#` skips `$` topics.
      if (i === 0) {
        for (const [level, child] of node.children) if (!level.startsWith('$')) collectAll(child, found);
        if (node.value !== undefined) found.push(node.value);
        return;
      }
      collectAll(node, found);
      return;
    }
    const level = levels[i];
    if (level !== null && level !== undefined) {
      const child = node.children.get(level);
      if (child !== undefined) this.walk(child, levels, i + 1, rest, found);
      return;
    }
    for (const [name, child] of node.children) {
      if (i === 0 && name.startsWith('$')) continue;
      this.walk(child, levels, i + 1, rest, found);
    }
  }
}

function collectAll<V>(node: TreeNode<V>, found: V[]): void {
  if (node.value !== undefined) found.push(node.value);
  for (const child of node.children.values()) collectAll(child, found);
}
