/**
 * A Map that forgets its oldest entries past `limit`: the per-container hint caches use it so
 * that a container serving many accounts keeps a bounded memory (a forgotten hint costs one
 * read, never a wrong answer).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    // Re-inserting moves the key to the end: recently written entries are kept longest.
    super.delete(key);
    super.set(key, value);
    if (this.size > this.limit) {
      const oldest = this.keys().next();
      if (!oldest.done) super.delete(oldest.value);
    }
    return this;
  }
}
