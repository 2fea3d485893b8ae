import type { Connector } from '../contract.js';
import { FileSource, fileUrl } from '../shared/file-source.js';
import { FileTarget } from '../shared/file-target.js';
import { jsonlFormat, jsonlWriting } from './jsonl-format.js';

/** A folder of JSON Lines files, one per table: `jsonl:./exports` is `./exports/<table>.jsonl`, as a source or a target. */
export const jsonlConnector: Connector = {
  openSource(url, options) {
    return Promise.resolve(new FileSource(fileUrl(url, options.baseDir).dir, jsonlFormat(), url));
  },
  openTarget(url, options) {
    return Promise.resolve(
      new FileTarget(fileUrl(url, options.baseDir).dir, jsonlFormat(), jsonlWriting, url, options.readOnly === true),
    );
  },
};
