import type { ClassCounts, RequestCounts } from './api-types.js';
import { el, svg } from './elements.js';

const total = (counts: ClassCounts) => counts.read + counts.write + counts.export + counts.ingest;

/**
 * Requests per minute over the window as bars (admitted dark, refused red on top), drawn as SVG
 * with sizes in attributes: no inline style, which the CSP would refuse. A text summary comes
 * with it for screen readers and for anyone comparing numbers.
 */
export function requestChart(counts: RequestCounts): HTMLElement {
  const from = Date.parse(counts.from);
  const minutes = Math.max(1, Math.round((Date.parse(counts.to) - from) / 60_000));
  const width = 600;
  const height = 120;
  const slot = width / minutes;
  const peak = Math.max(1, ...counts.minutes.map((m) => total(m.admitted) + total(m.refused)));
  const bars = counts.minutes.flatMap((m) => {
    const x = ((Date.parse(m.minute) - from) / 60_000) * slot;
    const admitted = (total(m.admitted) / peak) * height;
    const refused = (total(m.refused) / peak) * height;
    return [
      svg('rect', { x, y: height - admitted, width: Math.max(1, slot - 1), height: admitted, class: 'bar-admitted' }),
      svg('rect', { x, y: height - admitted - refused, width: Math.max(1, slot - 1), height: refused, class: 'bar-refused' }),
    ];
  });
  const summary = `${total(counts.admitted)} requests admitted and ${total(counts.refused)} refused in the last ${minutes} minutes (peak ${peak} a minute).`;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', height, role: 'img', 'aria-label': summary, class: 'chart' }, svg('title', {}, summary), ...bars);
  return el('figure', {}, chart, el('figcaption', {}, summary));
}
