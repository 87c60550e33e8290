/** Where the console is: the part of the hash before `?` and its query (`#/tenants?tier=pro`). */
export interface Route {
  path: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/tenants';
  const [path, search = ''] = hash.split('?', 2);
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function go(path: string, params?: Record<string, string | undefined>): void {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) if (value) query.set(key, value);
  const text = query.toString();
  location.hash = `#${path}${text ? `?${text}` : ''}`;
}

/** A page draws itself into the outlet and may answer a function that stops its timers. */
export type PageRender = (outlet: HTMLElement, route: Route) => Promise<(() => void) | void>;
