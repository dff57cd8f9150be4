/** A binary min-heap of non-negative integers: the ready keys, so assignment always takes the lowest index. */
export class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  peek(): number | undefined {
    return this.#items[0];
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      let smallestValue = last;
      if (left < items.length && (items[left] as number) < smallestValue) {
        smallest = left;
        smallestValue = items[left] as number;
      }
      if (right < items.length && (items[right] as number) < smallestValue) smallest = right;
      if (smallest === i) break;
      items[i] = items[smallest] as number;
      i = smallest;
    }
    items[i] = last;
    return top;
  }
}
