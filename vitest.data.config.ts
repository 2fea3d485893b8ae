import { defineConfig } from 'vitest/config';

// `npm run test:data`: the tests on the public data sets (FEBRL, Sakila, Chinook, the CRM export, the customer
// CSVs), read from CRM_MIGRATE_DATA or a shared/data folder beside the clone.
export default defineConfig({
  test: {
    include: ['test/data/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
