import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

let chosen = false;

/**
 * On two cores or fewer a load makes V8's young-generation collections serial. A parallel scavenge hands part
 * of its work to helper threads, and the main thread waits for them; during a load the other core is busy
 * (the databases, a mapping thread), so the helpers wait for a core and each pause grows. Measured on 1M
 * realistic rows, PostgreSQL → PostgreSQL on two cores: the scavenges' pauses summed 690–860 ms parallel,
 * 560–610 ms serial, five runs each (BENCHMARKS.md). Set once per process, before the first load; a machine with
 * cores to spare keeps V8's default.
 */
export function chooseScavenges(cores = availableParallelism()): void {
  if (chosen) return;
  chosen = true;
  // Read by V8 at each scavenge (ScavengerCollector::NumberOfScavengeTasks), so it takes effect when set late.
  if (cores <= 2) setFlagsFromString('--no-parallel-scavenge');
}
