import { describe, expect, it } from 'vitest';
import { CircuitBreaker, circuitRetryAtMs, type CircuitState } from './breaker.ts';

const policy = { failureThreshold: 3, cooldownMs: 10_000, probeWaitMs: 500 };

describe('CircuitBreaker', () => {
  it('lets batches pass while closed, and opens after N consecutive failures', () => {
    const breaker = new CircuitBreaker(policy);
    expect(breaker.admit(0)).toEqual({ decision: 'pass' });
    breaker.failure(1);
    breaker.failure(2);
    expect(breaker.state).toBe('closed');
    breaker.failure(3);
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, openedAtMs: 3, nextProbeAtMs: 10_003, opens: 1 });
  });

  it('counts only consecutive failures: a success in between starts over', () => {
    const breaker = new CircuitBreaker(policy);
    breaker.failure(1);
    breaker.failure(2);
    breaker.success();
    breaker.failure(3);
    breaker.failure(4);
    expect(breaker.state).toBe('closed');
  });

  it('keeps batches waiting until the cool-down is over, then lets exactly one probe go', () => {
    const breaker = new CircuitBreaker(policy);
    for (let t = 0; t < 3; t++) breaker.failure(t);
    expect(breaker.admit(5_000)).toEqual({ decision: 'wait', untilMs: 10_002 });
    expect(breaker.admit(10_002)).toEqual({ decision: 'probe' });
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit(10_003)).toEqual({ decision: 'wait', untilMs: 10_503 });
  });

  it('closes when the probe succeeds', () => {
    const breaker = new CircuitBreaker(policy);
    for (let t = 0; t < 3; t++) breaker.failure(t);
    breaker.admit(20_000);
    breaker.success();
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, openedAtMs: undefined, nextProbeAtMs: undefined });
    expect(breaker.admit(20_001)).toEqual({ decision: 'pass' });
  });

  it('opens again for a whole cool-down when the probe fails', () => {
    const breaker = new CircuitBreaker(policy);
    for (let t = 0; t < 3; t++) breaker.failure(t);
    breaker.admit(20_000);
    breaker.failure(20_100);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', nextProbeAtMs: 30_100, opens: 2 });
    expect(breaker.admit(30_000)).toMatchObject({ decision: 'wait' });
    expect(breaker.admit(30_100)).toEqual({ decision: 'probe' });
  });

  it('lets another batch probe when a probe is released without a result', () => {
    const breaker = new CircuitBreaker(policy);
    for (let t = 0; t < 3; t++) breaker.failure(t);
    expect(breaker.admit(20_000)).toEqual({ decision: 'probe' });
    breaker.release(true);
    expect(breaker.admit(20_001)).toEqual({ decision: 'probe' });
  });

  it('reports every state change', () => {
    const changes: CircuitState[] = [];
    const breaker = new CircuitBreaker(policy, (s) => changes.push(s));
    for (let t = 0; t < 3; t++) breaker.failure(t);
    breaker.admit(10_002);
    breaker.success();
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });
});

describe('circuitRetryAtMs', () => {
  it.each([
    [10_000, 1_000, 0, 10_000],
    [10_000, 1_000, 0.5, 10_500],
    [10_000, 1_000, 1, 11_000],
  ])('retries a batch waiting until %i with spread %i and draw %f at %i', (until, spread, draw, expected) => {
    expect(circuitRetryAtMs(until, spread, draw)).toBe(expected);
  });
});
