/** Formats a key path the way a user reads it in YAML: sources[2].modbus.registers[0].data_type */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

const SECRET_KEY = /(secret|password|passwd|passphrase|token|credentials?|(^|_)key)$/i;

/** True when the last key of the path names a secret, so its value must not be echoed. */
export function isSecretPath(path: ReadonlyArray<PropertyKey>): boolean {
  const last = [...path].reverse().find((s) => typeof s === 'string');
  return typeof last === 'string' && SECRET_KEY.test(last);
}
