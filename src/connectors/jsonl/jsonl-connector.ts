import { CrmMigrateError } from '../../errors.js';
import type { Connector } from '../contract.js';
import { FileSource, fileUrl } from '../shared/file-source.js';
import { jsonlFormat } from './jsonl-format.js';

/** A folder of JSON Lines exports as a source: `jsonl:./exports` reads `./exports/<table>.jsonl`. */
export const jsonlConnector: Connector = {
  schemes: ['jsonl'],
  openSource(url, options) {
    return Promise.resolve(new FileSource(fileUrl(url, options.baseDir).dir, jsonlFormat(), url));
  },
  openTarget() {
    return Promise.reject(new CrmMigrateError('E_PLAN', 'a JSONL folder is a source only, so far', { hint: 'write into sqlite:, postgres:// or mysql://' }));
  },
};
