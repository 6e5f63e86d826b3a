import { describe, expect, it } from 'vitest';
import { engineeringUnits } from './units.ts';

describe('engineeringUnits', () => {
  it.each([
    ['degC', '°C', 4408652],
    ['°C', '°C', 4408652],
    ['kW', 'kW', 4937556],
    ['%', '%', 20529],
    ['rpm', 'r/min', 5394509],
    ['bar', 'bar', 4342098],
  ])('knows %s as the UNECE unit %s', (unit, symbol, unitId) => {
    const eu = engineeringUnits(unit);
    expect([eu.displayName.text, eu.unitId]).toEqual([symbol, unitId]);
  });

  it('keeps an unknown unit as its text, with unitId -1', () => {
    const eu = engineeringUnits('furlong/fortnight');
    expect([eu.displayName.text, eu.unitId, eu.namespaceUri]).toEqual(['furlong/fortnight', -1, 'http://www.opcfoundation.org/UA/units/un/cefact']);
  });
});
