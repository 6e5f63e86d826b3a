import { runMain } from '../common/process/run-main.ts';
import { startRelay } from './app.ts';
import { relayConfigSchema } from './config.ts';

runMain({
  name: 'relay',
  envVar: 'RELAY_CONFIG',
  defaultPath: 'config/relay.yaml',
  schema: relayConfigSchema,
  logLevel: (config) => config.log.level,
  start: (config, log) => startRelay(config, { log: log.child({ relay: config.relay.id }) }),
  // startRelay logs its own start line with the HTTP port.
  started: () => {},
});
