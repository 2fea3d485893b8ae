import type { Connector } from '../contract.js';
import { redactUrl } from '../url.js';
import { connect, endpoint } from './postgres-client.js';
import { PostgresSource } from './postgres-source.js';
import { PostgresTarget } from './postgres-target.js';

/** PostgreSQL through node-postgres; bulk reads and writes through COPY (pg-copy-streams). */
export const postgresConnector: Connector = {
  async openSource(url, options) {
    const at = endpoint(url, options.tls);
    const client = await connect(at);
    // Every statement on a source connection is read-only (counts and catalog queries too, not only the
    // COPY reads, which run in their own READ ONLY transactions): a view over a function that writes fails.
    await client.query('SET default_transaction_read_only = on');
    return new PostgresSource(at, client, redactUrl(url));
  },
  async openTarget(url, options) {
    const at = endpoint(url, options.tls);
    return new PostgresTarget(at, await connect(at), redactUrl(url), options.readOnly === true);
  },
};
