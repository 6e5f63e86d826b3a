import { cpus, platform, release, totalmem } from 'node:os';

/** The machine a benchmark ran on, printed with every result so figures can be compared. */
export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  os: string;
}

const BYTES_PER_GB = 1024 ** 3;

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory_gb: Math.round((totalmem() / BYTES_PER_GB) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

export function describeMachine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB RAM, node ${m.node}, ${m.os}`;
}
