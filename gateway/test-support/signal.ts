import type { SourceReading } from '../../common/reading.ts';

const US_PER_MS = 1000;
const MS_PER_S = 1000;
/** Park-Miller LCG constants: a repeatable noise source, so figures are the same every run. */
const LCG_MULTIPLIER = 48_271;
const LCG_MODULUS = 2_147_483_647;

export interface SlowSignal {
  /** Samples, one per second. */
  seconds: number;
  /** A slow sine: its period, centre and amplitude. */
  periodS: number;
  centre: number;
  amplitude: number;
  /** Uniform noise of +-noise on every sample, as a real sensor has. */
  noise: number;
  seed?: number;
}

/**
 * A slowly changing analog signal (e.g. a tank temperature): a sine of a long period plus small
 * noise, sampled every second. The same arguments give the same samples.
 */
export function slowSignal(s: SlowSignal, tag = 'tank/temp', startMs = Date.UTC(2024, 4, 1)): SourceReading[] {
  let state = s.seed ?? 1;
  const random = () => {
    state = (state * LCG_MULTIPLIER) % LCG_MODULUS;
    return state / LCG_MODULUS;
  };
  const out: SourceReading[] = [];
  for (let i = 0; i < s.seconds; i++) {
    const value = s.centre + s.amplitude * Math.sin((2 * Math.PI * i) / s.periodS) + (random() * 2 - 1) * s.noise;
    const t = (startMs + i * MS_PER_S) * US_PER_MS;
    out.push({ source: 'bench', tag, value, quality: 0, sourceTimeUs: t, gatewayTimeUs: t, details: { protocol: 'mqtt', topic: tag, qos: 0, retain: false } });
  }
  return out;
}
