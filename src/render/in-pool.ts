/**
 * Runs `work` over `items` with at most `size` at a time, and returns the
 * results in the order of the items. A renderer's own bound on its ffmpeg
 * processes within one node (the engine bounds how many nodes run).
 */
export async function inPool<T, R>(items: readonly T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}
