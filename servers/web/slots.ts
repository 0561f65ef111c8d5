/**
 * @module slots
 * Counts what is held under a total cap and a cap per key (open event
 * streams per web process and per client). Taking a slot either holds one
 * or says which cap is reached; releasing is idempotent, so a stream closed
 * twice frees one slot, not two.
 */
export type Taken = { ok: true; release(): void } | { ok: false; full: "total" | "key" };

export class Slots {
  private readonly perKey = new Map<string, number>();
  private held = 0;

  constructor(
    readonly max: number,
    readonly maxPerKey: number,
  ) {}

  /** Slots held in all. */
  get size(): number {
    return this.held;
  }

  /** Slots `key` holds. */
  count(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  take(key: string): Taken {
    if (this.held >= this.max) return { ok: false, full: "total" };
    if (this.count(key) >= this.maxPerKey) return { ok: false, full: "key" };
    this.held++;
    this.perKey.set(key, this.count(key) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.held--;
        const left = this.count(key) - 1;
        if (left > 0) this.perKey.set(key, left);
        else this.perKey.delete(key);
      },
    };
  }
}
