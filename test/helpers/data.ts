import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The public data sets (FEBRL, Sakila, Chinook, the CRM export, the customer CSVs) that `npm run test:data`
 * runs on: CRM_MIGRATE_DATA, or a `shared/data` folder beside the clone. A clone has no copy of them, so
 * `npm test` never reads them.
 */
export const DATA = process.env.CRM_MIGRATE_DATA ?? path.resolve(import.meta.dirname, '../../../shared/data');

/** A file or folder of the data sets; missing, the test fails saying where it looked. */
export function dataPath(...parts: string[]): string {
  const file = path.join(DATA, ...parts);
  if (!existsSync(file))
    throw new Error(
      `${file} is missing: npm run test:data needs the public data sets (set CRM_MIGRATE_DATA to their folder)`,
    );
  return file;
}
