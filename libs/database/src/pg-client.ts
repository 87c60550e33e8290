import { Client } from 'pg';
import { hostOf, isConnectionFailure, ServiceUnreachableError } from './service-unavailable.error';

/** A single short-lived connection for administrative work (bootstrap, migrations, doctor). */
export async function connectPg(url: string, applicationName: string): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: 5000 });
  // The server ending this connection while it idles (a restart) must not be an unhandled 'error'
  // event that ends the process: the next query on it fails with the reason instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    if (isConnectionFailure(error)) throw new ServiceUnreachableError('PostgreSQL', hostOf(url));
    throw error;
  }
  return client;
}

export async function withPg<T>(url: string, applicationName: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectPg(url, applicationName);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * A string as an SQL literal, exactly as pg's `escapeLiteral` writes it: quotes doubled and, when
 * there is a backslash, an E'' literal with backslashes doubled, so it means the same whatever
 * `standard_conforming_strings` is. Two native replaces instead of `escapeLiteral`'s character loop
 * and string appends: 0.24 µs against 5 µs for a 700-character audit entry, on every inlined write.
 */
export function quoteLiteral(value: string): string {
  const quoted = value.replace(QUOTE, "''");
  return value.includes('\\') ? ` E'${quoted.replace(BACKSLASH, '\\\\')}'` : `'${quoted}'`;
}

const QUOTE = /'/g;
const BACKSLASH = /\\/g;

export interface PgUrlParts {
  user: string;
  password: string;
  database: string;
}

export function parsePgUrl(url: string): PgUrlParts {
  const parsed = new URL(url);
  return {
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
}
