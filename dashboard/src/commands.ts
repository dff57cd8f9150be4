/**
 * `torus dashboard [--network FILE] [--comet URL ...] [--listen HOST:PORT] [--verifier NAME]`: serves the
 * dashboard for any node set until Ctrl-C. The description is the global --network (default $TORUS_NETWORK,
 * else .testnet/testnet.json): a local network's testnet.json, or a client network file with the nodes'
 * CometBFT RPC URLs in its node order. The local network serves the same page itself (testnet/src/main.ts).
 */
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { startDashboard } from './server.js';

export interface DashboardCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly print: (lines: string[]) => void;
}

export const DEFAULT_LISTEN = '127.0.0.1:8090';

/** HOST:PORT, [IPv6]:PORT; port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError('must be HOST:PORT, e.g. 127.0.0.1:8090 (port 0 picks a free one)');
  return { host: (match[1] ?? match[2]) as string, port };
}

const waitForStopSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

export function registerDashboardCommand(program: Command, io: DashboardCommandIo): void {
  program
    .command('dashboard')
    .description(
      'serve a web page on the network: nodes, health, heights, epoch, key buffer, assignments, and a login demo.\n' +
        'The network is --network: a local network\'s testnet.json (default $TORUS_NETWORK, else .testnet/testnet.json), ' +
        'or a client network file with --comet.',
    )
    .option('--comet <url...>', "CometBFT RPC URLs of a client network file's nodes, in the file's node order (repeatable)")
    .addOption(new Option('--listen <host:port>', 'address to serve on; port 0 picks a free one').argParser(parseListen).default(parseListen(DEFAULT_LISTEN), DEFAULT_LISTEN))
    .option('--verifier <name>', 'the development verifier the login demo uses with a client network file (default torus-dev)')
    .action(async (options: { comet?: string[]; listen: { host: string; port: number }; verifier?: string }, command: Command) => {
      const globals = command.optsWithGlobals<{ network?: string }>();
      const networkFile = path.resolve(io.cwd, globals.network ?? io.env['TORUS_NETWORK'] ?? path.join('.testnet', 'testnet.json'));
      const dashboard = await startDashboard({
        networkFile, host: options.listen.host, port: options.listen.port,
        ...(options.comet === undefined ? {} : { comet: options.comet }),
        ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      });
      io.print([`dashboard of ${networkFile} at ${dashboard.url} (Ctrl-C stops it)`]);
      await waitForStopSignal();
      await dashboard.close();
    });
}
