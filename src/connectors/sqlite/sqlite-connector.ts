import { CrmMigrateError } from '../../errors.js';
import type { Connector, OpenOptions } from '../contract.js';
import { openDatabase, sqliteFile } from './sqlite-database.js';
import { SqliteSource } from './sqlite-source.js';
import { SqliteTarget } from './sqlite-target.js';

/** SQLite through better-sqlite3: the embedded default, no server needed. */
/** A file has no TLS: a plan that demands it for a SQLite side is a mistake worth saying. */
function refuseTls(options: OpenOptions): void {
  if (options.tls && options.tls.mode !== 'disable') {
    throw new CrmMigrateError(
      'E_PLAN',
      `tls ${options.tls.mode} was asked for a SQLite file, which is not reached over a network`,
      { hint: 'give tls per side: tls: { source: …, target: … }, for the PostgreSQL side only' },
    );
  }
}

export const sqliteConnector: Connector = {
  openSource(url, options) {
    refuseTls(options);
    const file = sqliteFile(url, options.baseDir);
    return Promise.resolve(
      new SqliteSource(openDatabase(file, 'read') as NonNullable<ReturnType<typeof openDatabase>>, url),
    );
  },
  openTarget(url, options) {
    refuseTls(options);
    const file = sqliteFile(url, options.baseDir);
    return Promise.resolve(new SqliteTarget(openDatabase(file, options.readOnly ? 'inspect' : 'write'), url));
  },
};
