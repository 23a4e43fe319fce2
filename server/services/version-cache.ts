/**
 * The runnable versions the run service fetched lately, least recently used dropped first. Versions are
 * immutable, so their bundles can be cached without invalidation.
 */
import type { RunnableVersion, Store } from "../store";

export class VersionCache {
  /** Map order is insertion order: re-inserting keeps the most recently used last. */
  private readonly versions = new Map<string, RunnableVersion>();

  constructor(
    private readonly store: Store,
    private readonly size: number,
  ) {}

  /** The version, from the cache or the store; null when the store has none. */
  async get(pipelineId: number, version: number): Promise<RunnableVersion | null> {
    const key = `${pipelineId}:${version}`;
    const cached = this.versions.get(key);
    if (cached) {
      this.versions.delete(key);
      this.versions.set(key, cached);
      return cached;
    }
    const found = await this.store.pipelines.runnable(pipelineId, version);
    if (found) {
      this.versions.set(key, found);
      if (this.versions.size > this.size) this.versions.delete(this.versions.keys().next().value!);
    }
    return found;
  }
}
