// Texts read from git, kept up to a total length. A review reads the same file several times (a package's
// gates, its slice, its parse, the suppressions), and each read is a round trip to `git cat-file` and a
// UTF-8 decode; a whole-tree scan of 9,500 files made 3.4 reads a file. The least recently used go first.

export class TextCache {
  private readonly entries = new Map<string, Promise<string | undefined>>();
  /** lengths of the texts that have arrived (a read still under way counts nothing yet) */
  private readonly lengths = new Map<string, number>();
  private total = 0;

  constructor(private readonly maxChars: number) {}

  /** The text for `key`, read with `load` when it is not kept; a failed read is not kept. */
  get(key: string, load: () => Promise<string | undefined>): Promise<string | undefined> {
    const kept = this.entries.get(key);
    if (kept) {
      // most recently used last: Map keeps insertion order
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept;
    }
    const read = load();
    this.entries.set(key, read);
    read.then(
      (text) => {
        if (this.entries.get(key) !== read) return;
        const length = text?.length ?? 0;
        this.lengths.set(key, length);
        this.total += length;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === read) this.drop(key);
      },
    );
    return read;
  }

  /** Characters held now. */
  get size(): number {
    return this.total;
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.total <= this.maxChars) return;
      this.drop(key);
    }
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.total -= this.lengths.get(key) ?? 0;
    this.lengths.delete(key);
  }
}
