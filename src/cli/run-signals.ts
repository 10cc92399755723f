// Ctrl-C / SIGTERM / SIGHUP turn into an abort of the run(s), which then end `interrupted`
// with complete reports. A second signal only repeats that the reports are being written
// (quitting then would leave run directories without one); a third quits at once.
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count >= 3) process.exit(130);
    process.stderr.write(
      count === 1
        ? `\ncto-harness: ${sig} received; stopping the agent(s) and writing complete reports\n`
        : `\ncto-harness: still writing reports; one more signal quits without them\n`,
    );
    controller.abort();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    dispose() {
      for (const s of signals) process.off(s, handler);
    },
  };
}
