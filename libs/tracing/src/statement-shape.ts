/**
 * Bulkhead's statements carry their values as literals (a read's tenant and id, a write's row,
 * an audit entry's JSON: one simple-protocol message each), so the pg instrumentation's
 * `db.query.text` would export tenant data, customers' e-mail addresses included, to whatever
 * collects the traces. A query span gets the statement's shape instead: every string, dollar-quoted
 * and numeric literal replaced by `?`. Anything from a quote left open on is cut, not guessed.
 */
const LITERAL = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$|(?<![A-Za-z0-9_$])[Ee]'(?:[^'\\]|\\[\s\S]|'')*'|'(?:[^']|'')*'|(?<![A-Za-z0-9_$.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_])/g;
/** An opening quote or dollar-quote tag with no end (`$1`-style parameters are not tags). */
const LEFT_OPEN = /'|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

/** Long enough for any statement Bulkhead builds, short of what a client could make it carry. */
const MAX_SHAPE = 2000;

export function statementShape(text: string): string {
  let shape = text.replace(LITERAL, '?');
  const open = LEFT_OPEN.exec(shape);
  if (open) shape = `${shape.slice(0, open.index)}?`;
  return shape.length > MAX_SHAPE ? `${shape.slice(0, MAX_SHAPE)}…` : shape;
}
