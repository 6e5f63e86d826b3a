import type { ReadingValue } from '../../../common/reading.ts';
import { SourceWriteError, type Pausable, type Source, type SourceContext, type SourceSpec, type SourceStatus } from '../types.ts';
import { opcuaConfigSchema, type OpcuaConfig } from './config.ts';
import type { OpcuaSource, OpcuaStats } from './driver.ts';

export type { OpcuaConfig } from './config.ts';

/**
 * Loads the driver (and node-opcua, about 70 MB of RSS) only when an OPC UA source starts,
 * so a gateway without one never pays for it.
 */
class LazyOpcuaSource implements Source, Pausable {
  readonly #name: string;
  readonly #config: OpcuaConfig;
  #driver: OpcuaSource | undefined;
  #stopped = false;
  /** A pause asked for before the driver loaded, handed on when it does. */
  #paused = false;

  constructor(name: string, config: OpcuaConfig) {
    this.#name = name;
    this.#config = config;
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.#stopped) return;
    const { OpcuaSource } = await import('./driver.ts');
    this.#driver ??= new OpcuaSource(this.#name, this.#config);
    if (this.#paused) this.#driver.pause();
    await this.#driver.start(ctx);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#driver?.stop();
  }

  status(): SourceStatus {
    return this.#driver?.status() ?? { state: this.#stopped ? 'stopped' : 'connecting' };
  }

  pause(): boolean {
    this.#paused = true;
    return this.#driver?.pause() ?? true;
  }

  resume(): void {
    this.#paused = false;
    this.#driver?.resume();
  }

  stats(): OpcuaStats | undefined {
    return this.#driver?.stats();
  }

  write(tag: string, value: ReadingValue): Promise<void> {
    if (!this.#driver) return Promise.reject(new SourceWriteError(`cannot write ${tag}: the OPC UA source has not started`, 'device'));
    return this.#driver.write(tag, value);
  }
}

/** The OPC UA source plugin: subscriptions or polling on one server, with discovery and security. */
export const opcua: SourceSpec<OpcuaConfig> = {
  protocol: 'opcua',
  configSchema: opcuaConfigSchema,
  create: (name, config) => new LazyOpcuaSource(name, config),
};
