import { el, svg } from './elements.js';

export interface NoisyFinding {
  measure: string;
  value: number;
  median: number;
  ratio: number | null;
}

/**
 * A tenant's findings as paired bars, its value against the fleet's median per measure (on one
 * scale per measure), as SVG with sizes in attributes; the numbers are in its label and caption.
 */
export function findingsChart(findings: NoisyFinding[]): HTMLElement {
  const rowHeight = 22;
  const width = 360;
  const label = 90;
  const rows = findings.flatMap((f, i) => {
    const scale = Math.max(f.value, f.median, 1);
    const y = i * rowHeight * 2;
    return [
      svg('text', { x: 0, y: y + 14, class: 'chart-label' }, f.measure),
      svg('rect', { x: label, y: y + 2, width: ((width - label) * f.value) / scale, height: rowHeight - 6, class: 'bar-refused' }),
      svg('rect', { x: label, y: y + rowHeight, width: ((width - label) * f.median) / scale, height: rowHeight - 6, class: 'bar-admitted' }),
    ];
  });
  const summary = findings.map((f) => `${f.measure} ${f.value} against a median of ${f.median}${f.ratio === null ? '' : ` (${f.ratio.toFixed(1)}x)`}`).join('; ');
  return el(
    'figure',
    {},
    svg('svg', { viewBox: `0 0 ${width} ${Math.max(1, findings.length) * rowHeight * 2}`, width, role: 'img', 'aria-label': summary, class: 'chart' }, svg('title', {}, summary), ...rows),
    el('figcaption', {}, summary, ' (red: the tenant, dark: the median).'),
  );
}
