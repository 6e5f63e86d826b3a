import { runMain } from '../common/process/run-main.ts';
import { startGateway } from './app.ts';
import { gatewayConfigSchema, protocolOf } from './config.ts';

runMain({
  name: 'gateway',
  envVar: 'GATEWAY_CONFIG',
  defaultPath: 'config/gateway.yaml',
  schema: gatewayConfigSchema,
  logLevel: (config) => config.log.level,
  start: (config, log, configFile) => startGateway(config, { log, ...(configFile ? { configFile } : {}) }),
  started(gateway, config, log, configPath) {
    const enabled = config.sources.filter((s) => s.enabled);
    log.info(
      {
        gatewayId: gateway.gatewayId,
        runId: gateway.runId,
        config: configPath,
        sources: enabled.map((s) => s.name),
        tables: [...new Set(enabled.map((s) => s.table ?? config.routing.tables[protocolOf(s)]))],
        httpPort: gateway.httpPort,
        spool: config.spool.dir ?? null,
        opcuaServer: gateway.opcuaEndpointUrl ?? null,
      },
      'Gateway started.',
    );
  },
  // The reload logs its own outcome (applied, or refused with every problem).
  onSighup: (gateway) => void gateway.reload('sighup').catch(() => {}),
});
