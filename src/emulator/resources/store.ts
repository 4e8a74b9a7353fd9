/** Each emulator's own copy of every declared collection, seeded the same way every run. */
import { stableUuid } from './data/ids.ts';
import type { Item, ResourceDeclaration } from './types.ts';

interface Progress {
  step: number;
  fails: boolean;
}

export class ResourceStore {
  #declarations: readonly ResourceDeclaration[];
  #collections = new Map<string, Map<string, Item>>();
  #created = 0;
  /** Asynchronous items (operations, tasks, jobs) and how far each has got. */
  #progress = new WeakMap<Item, Progress>();

  constructor(declarations: readonly ResourceDeclaration[]) {
    this.#declarations = declarations;
    this.reset();
  }

  reset(): void {
    this.#created = 0;
    for (const declaration of this.#declarations) {
      if (declaration.store !== undefined) continue;
      const key = declaration.key ?? 'id';
      const items = new Map<string, Item>();
      for (const item of declaration.seed?.() ?? []) items.set(String(item[key]), structuredClone(item));
      this.#collections.set(declaration.name, items);
    }
  }

  collection(name: string): Map<string, Item> {
    const items = this.#collections.get(name);
    if (items === undefined) throw new Error(`No resource named ${name}`);
    return items;
  }

  /** Deterministic: the n-th id created in this emulator is the same every run. */
  newId(): string {
    this.#created += 1;
    return stableUuid(`created:${this.#created}`);
  }

  /** Marks an item as asynchronous: it moves on as it is read. */
  track(item: Item, fails: boolean): void {
    this.#progress.set(item, { step: 0, fails });
  }

  /** 0 on the first read after creation, 1 on the second, ...; undefined for items that are not tracked. */
  advance(item: Item): Progress | undefined {
    const progress = this.#progress.get(item);
    if (progress === undefined) return undefined;
    progress.step += 1;
    return progress;
  }
}
