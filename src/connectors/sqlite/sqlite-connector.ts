import type { Connector } from '../contract.js';
import { openDatabase, sqliteFile } from './sqlite-database.js';
import { SqliteSource } from './sqlite-source.js';
import { SqliteTarget } from './sqlite-target.js';

/** SQLite through better-sqlite3: the embedded default, no server needed. */
export const sqliteConnector: Connector = {
  schemes: ['sqlite'],
  openSource(url, options) {
    const file = sqliteFile(url, options.baseDir);
    return Promise.resolve(new SqliteSource(openDatabase(file, 'read') as NonNullable<ReturnType<typeof openDatabase>>, url));
  },
  openTarget(url, options) {
    const file = sqliteFile(url, options.baseDir);
    return Promise.resolve(new SqliteTarget(openDatabase(file, options.readOnly ? 'inspect' : 'write'), url));
  },
};
