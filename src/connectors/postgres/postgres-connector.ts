import type { Connector } from '../contract.js';
import { redactUrl } from '../url.js';
import { connect } from './postgres-client.js';
import { PostgresSource } from './postgres-source.js';
import { PostgresTarget } from './postgres-target.js';

/** PostgreSQL through node-postgres; bulk reads and writes through COPY (pg-copy-streams). */
export const postgresConnector: Connector = {
  schemes: ['postgres', 'postgresql'],
  async openSource(url) {
    return new PostgresSource(url, await connect(url), redactUrl(url));
  },
  async openTarget(url, options) {
    return new PostgresTarget(url, await connect(url), redactUrl(url), options.readOnly === true);
  },
};
