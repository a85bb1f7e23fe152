// cli/main.ts: the `xbzrle` command. Arguments are parsed with node's own
// util.parseArgs (no dependency); each subcommand lives in its own file.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { benchCommand, BENCH_HELP, BENCH_OPTIONS } from './bench';
import { infoCommand, INFO_HELP } from './info';
import { inspectCommand, INSPECT_HELP, INSPECT_OPTIONS } from './inspect';
import { profileCommand, PROFILE_HELP, PROFILE_OPTIONS } from './profile';
import { adviseCommand, ADVISE_HELP, ADVISE_OPTIONS } from './advise';
import { governCommand, GOVERN_HELP, GOVERN_OPTIONS } from './govern';

export class UsageError extends Error {}

const HELP = `Usage: xbzrle <command> [options]

Commands:
  bench     measure the codec on this host (speed and bytes per page)
  info      version, kernels, and whether the native addon or the twin runs
  inspect   read a QEMU migration stream: records, passes, XBZRLE, RAM
  profile   watch a live process's dirty pages and advise an XBZRLE cache size (Linux)
  advise    the same report and advice from a trace recorded by "profile --record"
  govern    run QEMU migrations with XBZRLE sized under one host memory budget (QMP)

Run "xbzrle <command> --help" for the options of a command.`;

interface Command {
  help: string;
  options: ParseArgsConfig['options'];
  allowPositionals?: boolean;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  bench: { help: BENCH_HELP, options: BENCH_OPTIONS, run: benchCommand },
  info: { help: INFO_HELP, options: { json: { type: 'boolean' } }, run: infoCommand },
  inspect: { help: INSPECT_HELP, options: INSPECT_OPTIONS, allowPositionals: true, run: inspectCommand },
  profile: { help: PROFILE_HELP, options: PROFILE_OPTIONS, run: profileCommand },
  advise: { help: ADVISE_HELP, options: ADVISE_OPTIONS, allowPositionals: true, run: adviseCommand },
  govern: { help: GOVERN_HELP, options: GOVERN_OPTIONS, allowPositionals: true, run: governCommand },
};

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    console.log((require('../../package.json') as { version: string }).version);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`xbzrle: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: !!cmd.allowPositionals, strict: true });
  } catch (err) {
    console.error(`xbzrle ${name}: ${(err as Error).message}\n\n${cmd.help}`);
    return 2;
  }
  try {
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError || err instanceof RangeError || err instanceof TypeError) {
      console.error(`xbzrle ${name}: ${err.message}\n\nRun "xbzrle ${name} --help" for the options.`);
      return 2;
    }
    throw err;
  }
}
