import { DataChangeTrigger, DeadbandType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { filterSteps, toDataChangeFilter } from './monitor.ts';

describe('filterSteps', () => {
  it('sends no filter when none is configured, and has nothing to fall back to', () => {
    expect(filterSteps(undefined)).toEqual([undefined]);
  });

  it('falls back from a deadband straight to no filter when the trigger is the default', () => {
    const filter = { trigger: 'StatusValue', deadband_type: 'absolute', deadband_value: 1 } as const;
    expect(filterSteps(filter)).toEqual([filter, undefined]);
  });

  it('keeps a non-default trigger before giving up the filter', () => {
    const filter = { trigger: 'StatusValueTimestamp', deadband_type: 'percent', deadband_value: 5 } as const;
    expect(filterSteps(filter)).toEqual([filter, { trigger: 'StatusValueTimestamp', deadband_type: 'none', deadband_value: 0 }, undefined]);
  });
});

describe('toDataChangeFilter', () => {
  it('maps the config names to the OPC UA enums', () => {
    const f = toDataChangeFilter({ trigger: 'Status', deadband_type: 'percent', deadband_value: 2.5 });
    expect([f?.trigger, f?.deadbandType, f?.deadbandValue]).toEqual([DataChangeTrigger.Status, DeadbandType.Percent, 2.5]);
    expect(toDataChangeFilter(undefined)).toBeNull();
  });
});
