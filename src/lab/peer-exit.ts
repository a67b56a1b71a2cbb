/**
 * How the lab's peer processes (run inside a namespace with `ip netns exec … node …`) end: on
 * SIGTERM, on SIGINT, or when the parent closes their standard input (the parent died).
 */
export function exitWithParent(close: () => void): void {
  const stop = (): void => {
    close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop).resume();
}
