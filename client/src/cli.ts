#!/usr/bin/env node
/**
 * `torus`: the command-line face of TorusClient.
 *
 *   torus [--network FILE] [--json] [--timeout MS] lookup <verifier> <verifierId>
 *   torus [...] assign <verifier> <verifierId>
 *   torus [...] login --verifier V (--token T | --dev-email E) [--verifier-id ID] [--show-private-key]
 *   torus node start|key --config FILE;  torus contract deploy;  torus epoch create|status|set-current;  torus whitelist add
 *   (the operator commands, node/src/cli-commands.ts);  torus testnet up|status|down (testnet/src/commands.ts)
 *   torus dashboard [--comet URL ...] [--listen HOST:PORT]: the network's web page (dashboard/src/commands.ts)
 *
 * The network file defaults to $TORUS_NETWORK, else .testnet/client.json in the working directory.
 * Exit codes: 0 success, 1 failure (message on stderr), 2 usage error, 3 `lookup` of a user with no key.
 * `main(argv, io)` is exported and never exits the process, so tests can run it in-process; the bottom of the
 * file runs it only when this module is the program.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { registerOperatorCommands } from '../../node/src/cli-commands.js';
import { registerTestnetCommands } from '../../testnet/src/commands.js';
import { registerDashboardCommand } from '../../dashboard/src/commands.js';
import { loadNetwork, NetworkFileError } from './network.js';
import { TorusClient, DEFAULT_TIMEOUT_MS, type LoginResult, type UserKey } from './sdk.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, NOT_ASSIGNED: 3 } as const;

interface GlobalOptions {
  network?: string;
  json?: boolean;
  timeout: number;
}

interface LoginCommandOptions {
  verifier: string;
  token?: string;
  devEmail?: string;
  verifierId?: string;
  showPrivateKey?: boolean;
}

function parseTimeout(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive whole number of milliseconds');
  return Number(value);
}

function keyLines(key: { address: string; publicKey: Uint8Array; keyIndex: bigint }): string[] {
  return [`address      ${key.address}`, `public key   ${bytesToHex(key.publicKey)}`, `key index    ${key.keyIndex.toString(16)}`];
}

function keyJson(key: UserKey): { address: string; publicKey: string; keyIndex: string } {
  return { address: key.address, publicKey: bytesToHex(key.publicKey), keyIndex: key.keyIndex.toString(16) };
}

function loginLines(result: LoginResult, showPrivateKey: boolean): string[] {
  const lines = keyLines(result);
  lines.push(`shares       verified from nodes ${result.goodNodes.join(', ')}; key interpolated from nodes ${result.usedNodes.join(', ')}`);
  for (const bad of result.badNodes) lines.push(`BAD SHARE    node ${bad.index}: ${bad.reason}`);
  for (const failed of result.failedNodes) lines.push(`no share     node ${failed.index} (${failed.stage}): ${failed.reason}`);
  if (showPrivateKey) lines.push(`private key  ${bytesToHex(result.privateKey)}`);
  return lines;
}

/** Runs the CLI with `argv` (the arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const out: CliIo = {
    stdout: io.stdout ?? ((text) => process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => process.stderr.write(text)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
  };
  const print = (lines: string[]): void => out.stdout(`${lines.join('\n')}\n`);
  const printJson = (value: unknown): void => out.stdout(`${JSON.stringify(value, null, 2)}\n`);
  let exitCode: number = EXIT.OK;

  const program = new Command('torus')
    .description('Look up, assign and log in to keys on a Torus-style threshold key network.')
    .option('--network <file>', 'network description (default: $TORUS_NETWORK, else .testnet/client.json)')
    .option('--json', 'machine-readable output')
    .option('--timeout <ms>', 'deadline of each node call in milliseconds', parseTimeout, DEFAULT_TIMEOUT_MS)
    .exitOverride()
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
    .showHelpAfterError('(run torus --help for usage)');

  const client = (command: Command): { client: TorusClient; options: GlobalOptions } => {
    const options = command.optsWithGlobals<GlobalOptions>();
    const explicit = options.network ?? out.env['TORUS_NETWORK'];
    let network;
    try {
      network = loadNetwork(path.resolve(out.cwd, explicit ?? path.join('.testnet', 'client.json')));
    } catch (err) {
      if (explicit !== undefined || !(err instanceof NetworkFileError)) throw err;
      throw new NetworkFileError(`${err.message} (pass --network FILE or set TORUS_NETWORK)`, { cause: err });
    }
    return { client: new TorusClient(network, { timeoutMs: options.timeout }), options };
  };

  program
    .command('lookup')
    .description("show a user's key, or say that they have none (exit code 3)")
    .argument('<verifier>', 'verifier name, e.g. google')
    .argument('<verifierId>', 'the user within the verifier, e.g. an email address')
    .action(async (verifier: string, verifierId: string, _options: unknown, command: Command) => {
      const { client: torus, options } = client(command);
      const key = await torus.lookup(verifier, verifierId);
      if (key === undefined) {
        exitCode = EXIT.NOT_ASSIGNED;
        if (options.json === true) printJson({ verifier, verifierId, assigned: false });
        else print([`not assigned: ${verifier} user ${verifierId} has no key (torus assign ${verifier} ${verifierId} gives them one)`]);
        return;
      }
      if (options.json === true) printJson({ verifier, verifierId, assigned: true, ...keyJson(key) });
      else print(keyLines(key));
    });

  program
    .command('assign')
    .description("give a user a key (or show the one they have)")
    .argument('<verifier>', 'verifier name, e.g. google')
    .argument('<verifierId>', 'the user within the verifier, e.g. an email address')
    .action(async (verifier: string, verifierId: string, _options: unknown, command: Command) => {
      const { client: torus, options } = client(command);
      const key = await torus.assign(verifier, verifierId);
      if (options.json === true) printJson({ verifier, verifierId, assigned: true, ...keyJson(key) });
      else print(keyLines(key));
    });

  program
    .command('login')
    .description('log in with an id token and reconstruct the private key from verified shares')
    .requiredOption('--verifier <name>', 'verifier name, e.g. google')
    .addOption(new Option('--token <idToken>', 'the OpenID Connect id token').conflicts('devEmail'))
    .addOption(new Option('--dev-email <email>', "get a token for this email from the network's development issuer").conflicts('token'))
    .option('--verifier-id <id>', "the user's id (default: the token's email claim, else sub)")
    .option('--show-private-key', 'print the private key (it is hidden otherwise)')
    .action(async (options: LoginCommandOptions, command: Command) => {
      if (options.token === undefined && options.devEmail === undefined) command.error('error: login needs --token or --dev-email', { exitCode: EXIT.USAGE });
      const { client: torus, options: globals } = client(command);
      const token = options.token ?? (await torus.devToken(options.devEmail as string));
      const result = await torus.login(options.verifier, token, options.verifierId === undefined ? {} : { verifierId: options.verifierId });
      if (globals.json === true) {
        printJson(options.showPrivateKey === true ? { ...result.toJSON(), privateKey: bytesToHex(result.privateKey) } : result);
      } else {
        print(loginLines(result, options.showPrivateKey === true));
      }
    });

  const json = (command: Command) => command.optsWithGlobals<GlobalOptions>().json === true;
  registerOperatorCommands(program, { env: out.env, print, printJson, json });
  registerTestnetCommands(program, { print, printJson, json });
  registerDashboardCommand(program, { env: out.env, cwd: out.cwd, print });

  const configure = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: out.stdout, writeErr: out.stderr });
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end here too, with code 0; commander has already printed what it had to say.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    out.stderr(`torus: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILURE;
  }
}

function isMainModule(): boolean {
  const invoked = process.argv[1];
  if (invoked === undefined) return false;
  try {
    // npm installs bins as symlinks; compare real paths.
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  process.exitCode = await main(process.argv.slice(2));
}
