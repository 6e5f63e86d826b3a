import { gatewayConfigSchema } from '../gateway/config.ts';
import { relayConfigSchema } from '../relay/config.ts';
import { emulatorConfigSchema } from '../sim/zerobus/config.ts';
import { configRows, markdownTable } from './config-docs.ts';

const INTRO = `# Configuration

Generated from the config schemas by \`npm run docs:config\`; do not edit by hand.

Each process reads one YAML file: \`--config FILE\`, else the file named by its environment
variable (\`GATEWAY_CONFIG\`, \`RELAY_CONFIG\`, \`EMULATOR_CONFIG\`), else \`config/<process>.yaml\`.
Commented examples are in \`config/\`.

- **Environment variables**: any value may use \`\${VAR}\` or \`\${VAR:-default}\`. A value that is
  one whole reference takes the type its text spells (\`port: \${PORT}\` is a number), except
  where a string is expected. \`$\${\` writes a literal \`\${\`. An unset variable without a
  default is an error that names the key.
- **Validation**: unknown keys are errors, so a typo never silently falls back to a default.
  Every problem is listed with its key path, and the process starts nothing. \`--validate\`
  checks a file and exits (0 when valid, 2 when not).
- **Secrets** (\`client_secret\`, \`password\`): pass them through environment variables.
  They are never printed in logs, errors or status output.
`;

const SECTIONS = [
  { title: 'Gateway', file: 'config/gateway.example.yaml', schema: gatewayConfigSchema },
  { title: 'Relay', file: 'config/relay.example.yaml', schema: relayConfigSchema },
  { title: 'Zerobus emulator', file: 'config/emulator.example.yaml', schema: emulatorConfigSchema },
];

export function renderConfigDocs(): string {
  const parts = [INTRO];
  for (const s of SECTIONS) {
    parts.push(`## ${s.title}\n\nExample: \`${s.file}\`.\n\n${markdownTable(configRows(s.schema))}\n`);
  }
  return parts.join('\n');
}
