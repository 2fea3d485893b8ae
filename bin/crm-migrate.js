#!/usr/bin/env node
// The package's command: a thin shim over the bundled CLI (built by `npm ci` through `prepare`).
import { main } from '../dist/bundle/cli.js';

// A reader that stops early (`crm-migrate merges PLAN --csv | head`) closes the pipe: that ends the output,
// it is not a failure worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
