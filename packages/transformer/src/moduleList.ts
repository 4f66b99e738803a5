import { Module } from '@tessera/core';

/** Children named '0', '1', ... as torch.nn.ModuleList, so parameter names read `layers.3.mlp.fc1.weight`. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];

  constructor(items: M[] = []) {
    super();
    for (const item of items) this.append(item);
  }

  /** Registers `item` as the next child, named by its index ('0', '1', ...), and returns it. */
  append(item: M): M {
    this.addModule(String(this.items.length), item);
    this.items.push(item);
    return item;
  }
}
