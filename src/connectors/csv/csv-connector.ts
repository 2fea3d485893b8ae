import type { Connector } from '../contract.js';
import { FileSource, fileUrl } from '../shared/file-source.js';
import { FileTarget } from '../shared/file-target.js';
import { csvFormat, csvOptions, csvWriting } from './csv-format.js';

/** A folder of CSV files, one per table: `csv:./exports?delimiter=;` is `./exports/<table>.csv`, as a source or a target. */
export const csvConnector: Connector = {
  openSource(url, options) {
    const { dir, options: query } = fileUrl(url, options.baseDir);
    return Promise.resolve(new FileSource(dir, csvFormat(csvOptions(query)), url));
  },
  openTarget(url, options) {
    const { dir, options: query } = fileUrl(url, options.baseDir);
    const parsing = csvOptions(query);
    return Promise.resolve(
      new FileTarget(dir, csvFormat(parsing), csvWriting(parsing), url, options.readOnly === true),
    );
  },
};
