import type { Counter } from 'prom-client';
import { ConfigError, loadConfigFile } from '../../common/config/load.ts';
import type { Env } from '../../common/config/interpolate.ts';
import type { Logger } from '../../common/logger.ts';
import { gatewayConfigSchema, type GatewayConfig } from '../config.ts';
import { planReload, type ReloadPlan, type SourcePlan } from './diff.ts';
import { watchConfigFile, type FileWatch } from './watch.ts';

export type ReloadTrigger = 'sighup' | 'file' | 'http';

export interface ReloadResult {
  ok: boolean;
  trigger: ReloadTrigger;
  at: string;
  /** Why the new config was refused (each with its key path); the old one keeps running. */
  errors?: string[];
  sources?: SourcePlan & { failed: Array<{ name: string; error: string }> };
  batchingChanged?: boolean;
  /** Changed keys that take effect only after a restart; until then the old values stay. */
  restartRequired?: string[];
}

export interface ApplyOutcome {
  /** Sources whose (re)start failed; the rest of the reload stands. */
  failed: Array<{ name: string; error: string }>;
}

export interface ReloaderOptions {
  file: string;
  env: Env;
  initial: GatewayConfig;
  log: Logger;
  /** Carries out a plan on the running gateway. */
  apply(plan: ReloadPlan): Promise<ApplyOutcome>;
  reloads: Counter<'result'>;
}

/**
 * Reads the config file again on request (SIGHUP, file change, HTTP), validates it exactly as
 * at start, and applies what can change live. One reload at a time, in the order asked. An
 * invalid file changes nothing: the errors are logged and returned.
 */
export class Reloader {
  readonly #o: ReloaderOptions;
  #current: GatewayConfig;
  #chain: Promise<unknown> = Promise.resolve();
  #last: ReloadResult | undefined;
  #watch: FileWatch | undefined;
  #stopped = false;

  constructor(options: ReloaderOptions) {
    this.#o = options;
    this.#current = options.initial;
  }

  get current(): GatewayConfig {
    return this.#current;
  }

  get last(): ReloadResult | undefined {
    return this.#last;
  }

  async watch(): Promise<void> {
    const r = this.#current.reload;
    if (!r.watch || this.#stopped) return;
    this.#watch = await watchConfigFile(this.#o.file, r.debounce_ms, () => void this.reload('file'), this.#o.log);
  }

  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const run = this.#chain.then(() => this.#reload(trigger));
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Stops watching and waits for a reload under way. Safe twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.close();
    await this.#chain;
  }

  async #reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const at = new Date().toISOString();
    const log = this.#o.log;
    if (this.#stopped) return this.#done({ ok: false, trigger, at, errors: ['the gateway is stopping'] });
    let next: GatewayConfig;
    try {
      next = await loadConfigFile(this.#o.file, gatewayConfigSchema, this.#o.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const errors = err.lines();
      log.error({ trigger, file: this.#o.file, errors }, 'Refused the new configuration; the running one stays.');
      return this.#done({ ok: false, trigger, at, errors });
    }
    const plan = planReload(this.#current, next);
    const { failed } = await this.#o.apply(plan);
    this.#current = plan.effective;
    const result: ReloadResult = { ok: true, trigger, at, sources: { ...plan.sources, failed }, batchingChanged: plan.batchingChanged, restartRequired: plan.restartRequired };
    const { added, removed, restarted, updated } = plan.sources;
    log.info({ trigger, added, removed, restarted, updated, failed: failed.map((f) => f.name), batchingChanged: plan.batchingChanged }, 'Reloaded the configuration.');
    if (plan.restartRequired.length > 0) log.warn({ keys: plan.restartRequired }, 'Some changed settings take effect only after a restart; their old values stay until then.');
    return this.#done(result);
  }

  #done(result: ReloadResult): ReloadResult {
    this.#last = result;
    this.#o.reloads.inc({ result: result.ok ? 'applied' : 'rejected' });
    return result;
  }
}
