import { describe, expect, it } from 'vitest';
import { LatencyWindow, RateWindow } from './windows.ts';

describe('RateWindow', () => {
  it('averages what was added over the last minute', () => {
    const rate = new RateWindow();
    rate.add(3_000, 1_000);
    rate.add(3_000, 30_500);
    expect(rate.perSecond(31_000)).toBe(100);
  });

  it('forgets what is older than the window', () => {
    const rate = new RateWindow();
    rate.add(6_000, 1_000);
    rate.add(600, 61_500);
    expect(rate.perSecond(62_000)).toBe(10);
    expect(rate.perSecond(200_000)).toBe(0);
  });
});

describe('LatencyWindow', () => {
  it('gives p50 and p99 of the samples by nearest rank', () => {
    const latency = new LatencyWindow();
    for (let ms = 1; ms <= 100; ms++) latency.add(ms, 1_000);
    expect(latency.quantile(0.5, 2_000)).toBe(50);
    expect(latency.quantile(0.99, 2_000)).toBe(99);
    expect(latency.quantile(1, 2_000)).toBe(100);
  });

  it('has no quantile without samples in the window', () => {
    const latency = new LatencyWindow();
    expect(latency.quantile(0.5, 0)).toBeUndefined();
    latency.add(5, 1_000);
    expect(latency.quantile(0.5, 70_000)).toBeUndefined();
  });

  it('keeps at most the newest samples', () => {
    const latency = new LatencyWindow(60_000, 3);
    for (const ms of [1_000, 1_000, 1, 2, 3]) latency.add(ms, 10);
    expect(latency.quantile(1, 20)).toBe(3);
  });
});
