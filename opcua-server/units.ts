import { makeEUInformation, standardUnits } from 'node-opcua';

export type EUInformation = ReturnType<typeof makeEUInformation>;

/**
 * EngineeringUnits for a unit text from a driver ("degC", "kW", "%"). Units node-opcua knows
 * carry their UNECE code, so clients can recognise them; any other text is kept as the display
 * name with unitId -1 ("no code"), as OPC UA Part 8 allows.
 */
const NO_UNECE_CODE = -1;
const UNECE_NAMESPACE = 'http://www.opcfoundation.org/UA/units/un/cefact';

/** Spellings drivers and configs use for the same units, beside the symbols node-opcua uses. */
const ALIASES: Record<string, keyof typeof standardUnits> = {
  degC: 'degree_celsius',
  '°C': 'degree_celsius',
  celsius: 'degree_celsius',
  degF: 'degree_fahrenheit',
  '°F': 'degree_fahrenheit',
  K: 'kelvin',
  rpm: 'revolutions_per_minute',
  'm3': 'cubic_metre',
  'm3/h': 'cubic_metre_per_hour',
  'm3/min': 'cubic_meter_per_minute',
  'us': 'microsecond',
  'µs': 'microsecond',
  pct: 'percent',
  percent: 'percent',
  deg: 'degree',
};

let bySymbol: Map<string, EUInformation> | undefined;

function symbolTable(): Map<string, EUInformation> {
  if (bySymbol) return bySymbol;
  bySymbol = new Map();
  for (const info of Object.values(standardUnits) as EUInformation[]) {
    const symbol = info.displayName?.text;
    if (symbol) bySymbol.set(symbol, info);
  }
  for (const [alias, key] of Object.entries(ALIASES)) bySymbol.set(alias, standardUnits[key]);
  return bySymbol;
}

export function engineeringUnits(unit: string): EUInformation {
  const known = symbolTable().get(unit.trim());
  if (known) return known;
  const info = makeEUInformation('', unit, unit);
  info.unitId = NO_UNECE_CODE;
  info.namespaceUri = UNECE_NAMESPACE;
  return info;
}
