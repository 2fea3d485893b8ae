/**
 * SIGINT and SIGTERM as a request to stop: the first one lets the batch in progress commit and the command
 * end cleanly (its checkpoint is then exact); a second one ends the process at once, which is still safe —
 * the open batch rolls back with its checkpoint.
 */
export function stopOnSignals(say: (text: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    say(`${name}: stopping after the batch in progress (send it again to stop at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
