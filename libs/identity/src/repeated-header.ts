/**
 * How many times a request carried the header `lowerName` (lower case), from Node's `rawHeaders`,
 * which keep every copy that `headers` folds into one. A header sent twice may be read one way here
 * and another way by a proxy in front (Node keeps the first, a proxy may judge the last).
 */
export function headerCount(rawHeaders: readonly string[], lowerName: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].length === lowerName.length && rawHeaders[i].toLowerCase() === lowerName) count++;
  return count;
}
