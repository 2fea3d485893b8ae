import { CrmMigrateError } from '../../errors.js';
import type { Connector } from '../contract.js';
import { FileSource, fileUrl } from '../shared/file-source.js';
import { csvFormat, csvOptions } from './csv-format.js';

/** A folder of CSV exports as a source: `csv:./exports?delimiter=;` reads `./exports/<table>.csv`. */
export const csvConnector: Connector = {
  schemes: ['csv'],
  openSource(url, options) {
    const { dir, options: query } = fileUrl(url, options.baseDir);
    return Promise.resolve(new FileSource(dir, csvFormat(csvOptions(query)), url));
  },
  openTarget() {
    return Promise.reject(new CrmMigrateError('E_PLAN', 'a CSV folder is a source only, so far', { hint: 'write into sqlite:, postgres:// or mysql://' }));
  },
};
