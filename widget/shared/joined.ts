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
