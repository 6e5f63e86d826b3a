/** Keeps a simulator running until SIGINT or SIGTERM, then stops it: 0 when it stopped cleanly, 1 otherwise. */
export function stopOnSignal(running: { stop(): Promise<void> }): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => running.stop().then(() => resolve(0), () => resolve(1));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
