// cli/main.ts: the `xbzrle` command. Arguments are parsed with node's own
// util.parseArgs (no dependency); each subcommand lives in its own file.
import type { ParseArgsConfig } from 'node:util';
import { benchCommand, BENCH_HELP, BENCH_OPTIONS } from './bench';
import { infoCommand, INFO_HELP, INFO_OPTIONS } from './info';
import { inspectCommand, INSPECT_HELP, INSPECT_OPTIONS } from './inspect';
import { profileCommand, PROFILE_HELP, PROFILE_OPTIONS } from './profile';
import { adviseCommand, ADVISE_HELP, ADVISE_OPTIONS } from './advise';
import { CliError, EXIT, parseCommandLine } from './options';
import { governCommand, GOVERN_HELP, GOVERN_OPTIONS } from './govern';

const HELP = `Usage: xbzrle <command> [options]

Commands:
  bench     measure the codec on this host (speed and bytes per page)
  info      version, kernels, and whether the native addon or the twin runs
  inspect   read a QEMU migration stream: records, passes, XBZRLE, RAM
  profile   watch a live process's dirty pages and advise an XBZRLE cache size (Linux)
  advise    the same report and advice from a trace recorded by "profile --record"
  govern    run QEMU migrations with XBZRLE sized under one host memory budget (QMP)

Run "xbzrle <command> --help" for the options of a command.

Every command takes --json [FILE] (no FILE or "-": standard output).
Exit status: 0 success, 1 the work failed, 2 bad usage.`;

interface Command {
  help: string;
  options: ParseArgsConfig['options'];
  /** Positional arguments the command needs (0: none allowed). */
  positionals?: number;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  bench: { help: BENCH_HELP, options: BENCH_OPTIONS, run: benchCommand },
  info: { help: INFO_HELP, options: INFO_OPTIONS, run: infoCommand },
  inspect: { help: INSPECT_HELP, options: INSPECT_OPTIONS, positionals: 1, run: inspectCommand },
  profile: { help: PROFILE_HELP, options: PROFILE_OPTIONS, run: profileCommand },
  advise: { help: ADVISE_HELP, options: ADVISE_OPTIONS, positionals: 1, run: adviseCommand },
  govern: { help: GOVERN_HELP, options: GOVERN_OPTIONS, positionals: 0, run: governCommand },
};

/** Runs the CLI; resolves to the exit status (0 success, 1 the work failed, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    console.log((require('../../package.json') as { version: string }).version);
    return EXIT.ok;
  }
  const cmd = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    console.error(`xbzrle: unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return EXIT.ok;
  }
  try {
    const parsed = parseCommandLine(rest, cmd.options, cmd.positionals ?? 0);
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (err) {
    return report(name, err);
  }
}

/**
 * Prints an error once, prefixed "xbzrle NAME:". Only a CliError can mean
 * bad usage; anything else (a coded data error, or a bug) is exit 1, with
 * the stack when XBZRLE_DEBUG is set.
 */
export function report(name: string, err: unknown): number {
  // A message that already names the command (as some library errors do) keeps it once.
  const prefixed = (msg: string): string => (/^xbzrle\b/.test(msg) ? msg : `xbzrle ${name}: ${msg}`);
  if (err instanceof CliError) {
    const hint = err.status === EXIT.usage ? `\n\nRun "xbzrle ${name} --help" for the options.` : '';
    console.error(`${prefixed(err.message)}${hint}`);
    return err.status;
  }
  const e = err as { message?: unknown; code?: unknown; stack?: unknown } | null;
  const msg = e && typeof e.message === 'string' ? e.message : String(err);
  // A TypeError or RangeError without a code is a bug here, not the user's input.
  const coded = !!e && typeof e.code === 'string';
  const bug = !coded && (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError);
  console.error(`${prefixed(msg)}${bug ? ' (an internal error: please report it, with XBZRLE_DEBUG=1 for the stack)' : ''}`);
  if (process.env.XBZRLE_DEBUG && e && typeof e.stack === 'string') console.error(e.stack);
  return EXIT.failed;
}
