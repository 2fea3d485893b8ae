import type { Connector } from '../contract.js';
import { redactUrl } from '../url.js';
import { connect, endpoint } from './mysql-client.js';
import { MysqlSource } from './mysql-source.js';
import { MysqlTarget } from './mysql-target.js';

/** MySQL and MariaDB through mysql2: streamed reads in key order, multi-row INSERTs in one transaction per batch. */
export const mysqlConnector: Connector = {
  async openSource(url, options) {
    const at = endpoint(url.replace(/^mariadb:/i, 'mysql:'), options.tls);
    return new MysqlSource(at, await connect(at, { readOnly: true }), redactUrl(url));
  },
  async openTarget(url, options) {
    const at = endpoint(url.replace(/^mariadb:/i, 'mysql:'), options.tls);
    return new MysqlTarget(at, await connect(at), redactUrl(url), options.readOnly === true);
  },
};
