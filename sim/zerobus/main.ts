import { runMain } from '../../common/process/run-main.ts';
import { emulatorConfigSchema } from './config.ts';
import { startEmulator } from './emulator.ts';

runMain({
  name: 'emulator',
  envVar: 'EMULATOR_CONFIG',
  // Without a file, the emulator runs on its defaults.
  defaultPath: '',
  schema: emulatorConfigSchema,
  logLevel: (config) => config.log.level,
  start: startEmulator,
  started(emulator, _config, log) {
    log.info(
      { grpcPort: emulator.grpcPort, httpPort: emulator.httpPort, grpc: emulator.grpcAddress, workspaceUrl: emulator.workspaceUrl, dataDir: emulator.dataDir },
      'Zerobus emulator listening; rows land in <data_dir>/<table>.jsonl.',
    );
  },
});
