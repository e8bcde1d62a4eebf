/**
 * Flag parsing for the server: every option of src/config/options.ts as --kebab-case, validated there.
 */
import { parseArgs } from 'node:util';
import { OPTION_KEYS, flagName, type Options } from '../config/options.js';

export interface ServeArgs {
  overrides: Partial<Record<keyof Options, string | boolean>>;
  help: boolean;
  helpMarkdown: boolean;
}

export function parseServeArgs(argv: string[]): ServeArgs {
  const spec: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' }, 'help-markdown': { type: 'boolean' } };
  for (const key of OPTION_KEYS) spec[flagName(key)] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
  const overrides: ServeArgs['overrides'] = {};
  for (const key of OPTION_KEYS) {
    const v = values[flagName(key)];
    if (v !== undefined) overrides[key] = v;
  }
  return { overrides, help: values.help === true, helpMarkdown: values['help-markdown'] === true };
}
