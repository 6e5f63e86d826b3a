import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua-debug';
import type { Logger } from '../common/logger.ts';

let routed = false;

/**
 * node-opcua prints its own warnings and errors to stdout, which would break the gateway's
 * JSON log lines. Routes them into the gateway's logger instead, as warnings: they describe
 * the library's view (a refused certificate, a node version note), not data loss. Process-wide,
 * so the first caller wins; call it before node-opcua is loaded.
 */
export function routeNodeOpcuaLogs(log: Logger): void {
  if (routed) return;
  routed = true;
  const child = log.child({ component: 'node-opcua' });
  const write = (args: unknown[]) => child.warn({ detail: format(...args).trim() }, 'node-opcua reported a problem.');
  setWarningLogger((...args: unknown[]) => write(args));
  setErrorLogger((...args: unknown[]) => write(args));
}
