/**
 * A string column as ONE string joined with U+001F (the unit separator): one copy to structured-clone or
 * store and one split to read, where a million separate strings cost a string object each.
 */
export const SEPARATOR = '\u001f';

/** The values joined, or null when a value holds the separator (they could not be told apart again). */
export function joinStrings(values: readonly string[]): string | null {
  for (const value of values) if (value.includes(SEPARATOR)) return null;
  return values.join(SEPARATOR);
}

/** The `count` strings that `joinStrings` joined into `text`. */
export function splitStrings(text: string, count: number): string[] {
  return count === 0 ? [] : text.split(SEPARATOR);
}

/**
 * The `count` strings of `text` as a read-only array that splits `text` only when an element is first read;
 * `length` never splits. The fit worker's ids: `fit` reads them only to name rejected rows, so a million ids
 * usually never become a million strings in the worker (~130 ms and ~40 MB of heap saved at 1M). Typed
 * `string[]` for `FeatureTable.ids`, but read-only: a write throws a TypeError (modules are strict).
 */
export function lazySplit(text: string, count: number): string[] {
  let strings: string[] | null = null;
  const resolve = (): string[] => (strings ??= splitStrings(text, count));
  return new Proxy([] as string[], {
    get: (_target, key) => (key === 'length' ? count : Reflect.get(resolve(), key)),
    has: (_target, key) => Reflect.has(resolve(), key),
    ownKeys: () => Reflect.ownKeys(resolve()),
    getOwnPropertyDescriptor: (_target, key) => (key === 'length' ? { value: count, writable: true, enumerable: false, configurable: false } : Reflect.getOwnPropertyDescriptor(resolve(), key)),
    set: () => false,
    deleteProperty: () => false,
    defineProperty: () => false,
  });
}
