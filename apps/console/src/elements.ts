/**
 * The only way the console puts anything on the page: elements built one by one, text set as
 * text nodes. Nothing here parses a string as markup, so a tenant named
 * `<img src=x onerror=alert(1)>` is shown as those characters (and the CSP would stop it anyway).
 */
export type Child = Node | string | number | boolean | null | undefined;

export interface Props {
  class?: string;
  id?: string;
  /** Attributes, set as strings: never `on*` handlers or `style` (use `on` and classes). */
  attrs?: Record<string, string | undefined>;
  on?: Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.id) node.id = props.id;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined) continue;
    if (/^on/i.test(name) || name === 'style') throw new Error(`refusing attribute ${name}`);
    node.setAttribute(name, value);
  }
  for (const [event, handler] of Object.entries(props.on ?? {})) if (handler) node.addEventListener(event, handler);
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with its attributes (the charts: sizes are attributes, not inline styles the CSP forbids). */
export function svg(tag: string, attrs: Record<string, string | number>, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, ...children);
  return node;
}

/** A labelled form control: the label names it for screen readers and axe. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  return el('label', { class: 'field' }, el('span', {}, label), control);
}

export function select(name: string, options: Array<[value: string, label: string]>, value = ''): HTMLSelectElement {
  const node = el('select', { attrs: { name } }, ...options.map(([v, text]) => el('option', { attrs: { value: v } }, text)));
  // Only a value that is one of the options: any other leaves the select showing nothing at all.
  if (options.some(([v]) => v === value)) node.value = value;
  return node;
}

export function input(name: string, value = '', attrs: Record<string, string> = {}): HTMLInputElement {
  const node = el('input', { attrs: { name, type: 'text', ...attrs } });
  node.value = value;
  return node;
}

export function button(text: string, onClick: () => void | Promise<void>, kind = ''): HTMLButtonElement {
  return el('button', { class: kind, attrs: { type: 'button' }, on: { click: () => void onClick() } }, text);
}

/** A table of rows; each cell is text or a node. */
export function table(caption: string, headers: string[], rows: Child[][]): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'empty' }, `${caption}: none.`);
  return el(
    'table',
    {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { attrs: { scope: 'col' } }, h)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((cell) => el('td', {}, cell))))),
  );
}

/** A definition list of label and value pairs. */
export function facts(pairs: Array<[string, Child]>): HTMLElement {
  return el('dl', { class: 'facts' }, ...pairs.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value ?? '—')]));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return el('section', { attrs: { 'aria-labelledby': id } }, el('h2', { id }, title), ...children);
}

export function when(date: string | null | undefined): string {
  return date ? new Date(date).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}
