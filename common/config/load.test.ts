import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Secret } from '../secret.ts';
import { ConfigError, parseConfigText } from './load.ts';
import { secretString } from './shared.ts';

const schema = z
  .object({
    name: z.string(),
    port: z.number().int().min(1).max(65535).default(502),
    sources: z
      .array(
        z
          .object({
            modbus: z
              .object({
                registers: z.array(z.object({ data_type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bool', 'string']) }).strict()),
              })
              .strict(),
          })
          .strict(),
      )
      .default([]),
    client_secret: secretString().optional(),
  })
  .strict();

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, schema, env, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.lines();
    throw err;
  }
  return [];
}

describe('parseConfigText', () => {
  it('names the key path and the allowed values of a bad enum', () => {
    const text = `name: a\nsources:\n  - modbus: { registers: [ { data_type: int16 } ] }\n  - modbus: { registers: [] }\n  - modbus:\n      registers:\n        - data_type: flaot32\n`;
    expect(problems(text)).toEqual([
      'config error: sources[2].modbus.registers[0].data_type: expected one of int16, uint16, int32, uint32, float32, float64, bool, string; got "flaot32"',
    ]);
  });

  it('reports every problem, not just the first', () => {
    expect(problems('port: 70000\nextra: 1\n')).toEqual([
      'config error: name: required key is missing',
      'config error: port: expected at most 65535, got number 70000',
      'config error: extra: unknown key',
    ]);
  });

  it('reports a wrong type with the value it got', () => {
    expect(problems('name: a\nport: "abc"\n')).toEqual(['config error: port: expected number, got "abc"']);
  });

  it('reports an unset variable once, at its key path', () => {
    expect(problems('name: ${NAME}\n')).toEqual(['config error: name: environment variable NAME is not set']);
  });

  it('types a whole-value reference from its text', () => {
    expect(parseConfigText('name: a\nport: ${PORT}\n', schema, { PORT: '1502' })).toMatchObject({ port: 1502 });
  });

  it('points at the line of a YAML syntax error', () => {
    const [line] = problems('name: a\nport: 1\nname: b\n');
    expect(line).toMatch(/^config error: line 3, column 1: YAML syntax error: Map keys must be unique/);
  });

  it('never echoes a secret value in an error', () => {
    const lines = problems('name: a\nclient_secret: 123456789\n');
    expect(lines).toEqual(['config error: client_secret: expected string, got a value of the wrong kind']);
    expect(lines.join('\n')).not.toContain('123456789');
  });

  it('wraps secrets so they print as redacted', () => {
    const config = parseConfigText('name: a\nclient_secret: s3cr3t-value\n', schema, {});
    expect(config.client_secret).toBeInstanceOf(Secret);
    expect(config.client_secret?.reveal()).toBe('s3cr3t-value');
    expect(JSON.stringify(config)).not.toContain('s3cr3t-value');
    expect(String(config.client_secret)).toBe('[redacted]');
  });
});

describe('whole references with numeric text', () => {
  const ids = z.object({ workspace_id: z.string(), port: z.number(), password: secretString() }).strict();
  it('stay text where the schema expects a string and become numbers where it expects one', () => {
    const config = parseConfigText('workspace_id: ${WS}\nport: ${PORT}\npassword: ${PW}\n', ids, { WS: '1234567890123456', PORT: '1883', PW: '000123' });
    expect(config.workspace_id).toBe('1234567890123456');
    expect(config.port).toBe(1883);
    expect(config.password.reveal()).toBe('000123');
  });
});

describe('YAML syntax errors', () => {
  it('shows the first few, with a hint for an unquoted reference in a flow mapping', () => {
    let lines: string[] = [];
    try {
      parseConfigText('name: a\nredis: { url: ${REDIS_URL}, prefix: p }\nhttp: { port: 0 }\nx: { a: 1 }\n', z.object({}).passthrough(), {});
    } catch (err) {
      lines = (err as ConfigError).lines();
    }
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      'config error: line 2, column 16: YAML syntax error: Unexpected flow-map-start at node end (inside { } or [ ], quote a value that uses ${VAR}: "${VAR}")',
    );
  });
});
