import type { MqttClient } from 'mqtt';
import { backoffDelayMs, type BackoffPolicy } from '../../../common/backoff.ts';

/**
 * Exponential backoff with jitter for mqtt.js reconnects.
 *
 * mqtt.js has one fixed `reconnectPeriod`, but it reads `client.options.reconnectPeriod` anew
 * each time a connection closes, to arm the timer for the next attempt. So the pacer sets that
 * option to the next wait just before each attempt ('reconnect' is emitted right before
 * mqtt.js dials again), and back to the first wait on every successful connect. mqtt.js keeps
 * doing the reconnecting itself, with its session stores intact.
 *
 * Wait n (n = 1 after a connection is lost or the first dial fails) is drawn between half and
 * all of min(max, initial * 2^(n-1)), so a plant full of gateways does not reconnect in step.
 */
export class ReconnectPacer {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** The wait before the next attempt; each call counts one more attempt. */
  next(): number {
    this.#attempt += 1;
    return backoffDelayMs(this.#policy, this.#attempt, this.#random());
  }

  /**
   * Keeps client.options.reconnectPeriod at the next wait. The client must have been created
   * with reconnectPeriod set to first(), so that a failed first dial waits that long.
   */
  attach(client: Pick<MqttClient, 'on' | 'options'>): void {
    client.on('connect', () => {
      this.#attempt = 0;
      client.options.reconnectPeriod = this.next();
    });
    client.on('reconnect', () => {
      client.options.reconnectPeriod = this.next();
    });
  }

  /** The wait before the first reconnect, for the client's initial options. */
  first(): number {
    this.#attempt = 0;
    return this.next();
  }
}
