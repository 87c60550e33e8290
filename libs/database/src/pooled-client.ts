import { Client, ClientConfig } from 'pg';

/**
 * The pg Client every runtime pool opens. While a connection is checked out, pg-pool stops
 * listening to it; the server's FATAL of a shutdown ("terminating connection due to administrator
 * command") arriving between two statements is then an 'error' event nobody hears, which Node
 * turns into an uncaught exception that ends the process. CI saw exactly that during a PostgreSQL
 * stop. pg has already failed the connection's queries by the time it emits, and pg-pool and
 * TypeORM add their own listeners on top of this one, so the event only needs an ear.
 */
export class PooledClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}
