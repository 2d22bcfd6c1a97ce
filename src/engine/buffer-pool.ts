/**
 * Size-bucketed pool of reusable buffers (GPU buffers or Float64Arrays). Buckets are powers of two
 * up to 64 MiB-equivalents and 16 MiB steps above, so a freed buffer serves the next similar tensor.
 */
export function bucketSize(size: number): number {
  const min = 64;
  if (size <= min) return min;
  const step = 1 << 24;
  if (size > step * 4) return Math.ceil(size / step) * step;
  return 2 ** Math.ceil(Math.log2(size));
}

export interface PoolStats {
  /** buffers handed out and not yet returned */
  live: number;
  liveSize: number;
  /** buffers waiting in the pool */
  free: number;
  freeSize: number;
  /** buffers ever created (a pool that works stops creating) */
  created: number;
}

export class BufferPool<T> {
  private readonly freeLists = new Map<number, T[]>();
  private readonly stats: PoolStats = { live: 0, liveSize: 0, free: 0, freeSize: 0, created: 0 };

  constructor(
    private readonly create: (size: number) => T,
    private readonly destroy: (item: T) => void,
  ) {}

  /** Returns a buffer of at least `size` units and its bucket size. */
  acquire(size: number): { item: T; size: number } {
    const b = bucketSize(size);
    const list = this.freeLists.get(b);
    this.stats.live++;
    this.stats.liveSize += b;
    if (list && list.length > 0) {
      this.stats.free--;
      this.stats.freeSize -= b;
      return { item: list.pop()!, size: b };
    }
    this.stats.created++;
    return { item: this.create(b), size: b };
  }

  release(item: T, size: number): void {
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(item);
    this.stats.live--;
    this.stats.liveSize -= size;
    this.stats.free++;
    this.stats.freeSize += size;
  }

  snapshot(): PoolStats {
    return { ...this.stats };
  }

  /** Destroys every pooled (not live) buffer. */
  clear(): void {
    for (const list of this.freeLists.values()) list.forEach((x) => this.destroy(x));
    this.freeLists.clear();
    this.stats.free = 0;
    this.stats.freeSize = 0;
  }
}
