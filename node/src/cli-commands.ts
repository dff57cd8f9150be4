/**
 * The `torus` commands for operators: `node init` / `node key` / `node start` for a node, the contract owner's
 * `contract deploy`, `epoch create`, `epoch set-current` and `whitelist add`, and the read-only `epoch status`
 * and `network export` (the client network file of an epoch, from the contract). Each admin command prints
 * what it did and the transaction hash. Chain, contract and admin key come from options or the environment
 * (TORUS_ETH_RPC, TORUS_CONTRACT, TORUS_ADMIN_KEY as hex, or TORUS_ADMIN_KEY_FILE as {"secret_key"}).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { getAddress, parseEther } from 'ethers';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { parseSecretKey } from '../../core/crypto/keys.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { thresholdError } from '../../core/epoch.js';
import { createLogger } from '../../core/log.js';
import { loadOrCreateNodeKey, readNodeKey } from '../../core/node-key.js';
import { deployNodeList, NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import { DEFAULT_PORTS, loadNodeKeyFile, nodeConfigTextProblems, readNodeConfig } from './config.js';
import { nodeConfigTemplate } from './config-template.js';
import { contractRegistry } from './contract-registry.js';
import { clientNetworkFromContract } from './client-network.js';
import { startNode } from './start.js';

export interface CommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly print: (lines: string[]) => void;
  readonly printJson: (value: unknown) => void;
  readonly json: (command: Command) => boolean;
}

interface ChainOptions {
  ethRpc?: string;
  contract?: string;
  adminKeyFile?: string;
}

function positiveInt(what: string) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number`);
    return Number(value);
  };
}

function chainOptions(command: Command): Command {
  return command
    .option('--eth-rpc <url>', 'Ethereum JSON-RPC URL (default: $TORUS_ETH_RPC)')
    .option('--admin-key-file <file>', 'the contract owner\'s key file {"secret_key"} (default: $TORUS_ADMIN_KEY_FILE, or $TORUS_ADMIN_KEY as hex)');
}

function contractOption(command: Command): Command {
  return command.option('--contract <address>', 'NodeList contract address (default: $TORUS_CONTRACT)');
}

function withContract(command: Command): Command {
  return contractOption(chainOptions(command));
}

/** Options of a command that only reads the contract (no admin key). */
function readingContract(command: Command): Command {
  return contractOption(command.option('--eth-rpc <url>', 'Ethereum JSON-RPC URL (default: $TORUS_ETH_RPC)'));
}

export function registerOperatorCommands(program: Command, io: CommandIo): void {
  const setting = (value: string | undefined, env: string, what: string): string => {
    const resolved = value ?? io.env[env];
    if (resolved === undefined || resolved === '') throw new Error(`${what} is needed: pass it as an option or set ${env}`);
    return resolved;
  };
  const chainProvider = (options: ChainOptions) => providerFor(setting(options.ethRpc, 'TORUS_ETH_RPC', '--eth-rpc'));
  const contractAddress = (options: ChainOptions) => getAddress(setting(options.contract, 'TORUS_CONTRACT', '--contract'));
  const admin = (options: ChainOptions) => {
    const provider = chainProvider(options);
    const keyFile = options.adminKeyFile ?? io.env['TORUS_ADMIN_KEY_FILE'];
    const secret = keyFile !== undefined ? readNodeKey(keyFile) : parseSecretKey(setting(undefined, 'TORUS_ADMIN_KEY', 'the admin key (--admin-key-file)'));
    return { provider, wallet: walletFor(bytesToHex(secret), provider) };
  };
  /** The contract for reads only: no admin key needed. */
  const readerOf = (options: ChainOptions) => {
    const provider = chainProvider(options);
    return { provider, contract: new NodeListContract(contractAddress(options), provider) };
  };
  const contractOf = (options: ChainOptions) => {
    const { provider, wallet } = admin(options);
    return { provider, wallet, contract: new NodeListContract(contractAddress(options), wallet) };
  };
  const report = (command: Command, fields: Record<string, unknown>, lines: string[]) => (io.json(command) ? io.printJson(fields) : io.print(lines));

  const node = program.command('node').description('run a node of an epoch listed in the NodeList contract');
  node
    .command('start')
    .description('register in the contract, wait for the whole epoch, then run cometbft, torus-abci, torus-dkg and torus-retrieval')
    .requiredOption('--config <file>', 'the node configuration (node/README.md)')
    .action(async (options: { config: string }) => {
      // Validated in full before anything happens: no key is created and the contract is not called on a bad file.
      const { config, overrides } = readNodeConfig(options.config, io.env);
      if (overrides.length > 0) io.print([`from the environment: ${overrides.map((o) => `${o.field} (${o.variable})`).join(', ')}`]);
      const log = createLogger('torus-node', config.log_level);
      const running = await startNode({
        config, log, say: (line) => io.print([line]),
        registry: (secretKey) => contractRegistry(config.eth_rpc, config.contract, secretKey),
      });
      io.print([`node ${running.index} of epoch ${config.epoch} is running; Ctrl-C stops it`]);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      io.print(['stopping the node processes...']);
      await running.stop();
    });
  node
    .command('key')
    .description("create the node key if missing and print the node's address (for the whitelist)")
    .requiredOption('--config <file>', 'the node configuration (only data_dir and node_key_file are read, so it may still have fields to fill in)')
    .action((options: { config: string }, command: Command) => {
      const keyFile = loadNodeKeyFile(options.config, io.env);
      const { secretKey, created } = loadOrCreateNodeKey(keyFile);
      const signer = new NodeSigner(secretKey);
      report(command, { address: signer.checksumAddress, public_key: bytesToHex(signer.publicKey), created, file: keyFile },
        [`${created ? 'created' : 'existing'} node key ${keyFile}`, `address      ${signer.checksumAddress}`, `public key   ${bytesToHex(signer.publicKey)}`]);
    });
  node
    .command('init')
    .description('write a commented node configuration (JSONC) with every field, its default and the values it allows')
    .option('--out <file>', 'the file to write', 'node.jsonc')
    .option('--epoch <id>', 'the epoch the node joins', positiveInt('--epoch'), 1)
    .option('--public-host <host>', 'the host name or IPv4 address other nodes reach this node at (default: a placeholder to fill in)')
    .option('--contract <address>', 'NodeList contract address (default: $TORUS_CONTRACT, else a placeholder)')
    .option('--eth-rpc <url>', 'Ethereum JSON-RPC URL (default: $TORUS_ETH_RPC, else a placeholder)')
    .option('--force', 'replace the file if it exists')
    .action((options: { out: string; epoch: number; publicHost?: string; contract?: string; ethRpc?: string; force?: boolean }, command: Command) => {
      const fromEnv = (name: string) => (io.env[name] === '' ? undefined : io.env[name]);
      // Next to the file, named after it, so that two nodes' files in one directory do not share a data_dir.
      const dataDir = `${path.basename(options.out).replace(/\.[^.]*$/, '')}-data`;
      const text = nodeConfigTemplate({
        epoch: options.epoch, data_dir: dataDir, public_host: options.publicHost,
        contract: options.contract ?? fromEnv('TORUS_CONTRACT'), eth_rpc: options.ethRpc ?? fromEnv('TORUS_ETH_RPC'),
      });
      // What is written must load as it is; only the placeholders may be left (the environment does not count).
      const problems = nodeConfigTextProblems(text, options.out, {});
      const wrong = problems.filter((p) => !p.fillIn);
      if (wrong.length > 0) throw new Error(`refusing to write ${options.out}:\n  ${wrong.map((p) => `${p.field}: ${p.message}`).join('\n  ')}`);
      try {
        writeFileSync(options.out, text, { flag: options.force === true ? 'w' : 'wx' });
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'EEXIST') throw new Error(`${options.out} exists; pass --force to replace it`);
        throw error;
      }
      const fillIn = problems.map((p) => `${p.field}: ${p.message}`);
      const keyCommand = `torus node key --config ${options.out}`;
      const startCommand = `torus node start --config ${options.out}`;
      report(command, { file: options.out, epoch: options.epoch, data_dir: dataDir, fill_in: problems.map((p) => p.field), next: [keyCommand, startCommand] }, [
        `wrote ${options.out}: a commented configuration with every field, its default and the values it allows`,
        `  epoch ${options.epoch}, data in ${dataDir}/, ports ${Object.entries(DEFAULT_PORTS).map(([name, port]) => `${name} ${port}`).join(', ')}, mode production`,
        ...(fillIn.length > 0 ? ['still to fill in (torus node start names each one left):', ...fillIn.map((line) => `  ${line}`)] : []),
        'next:',
        `  ${keyCommand}     # creates the node key and prints the address for the contract owner's whitelist`,
        `  ${startCommand}   # registers in the contract once whitelisted, then runs the node`,
      ]);
    });

  const contract = program.command('contract').description('the NodeList contract');
  chainOptions(contract.command('deploy').description('deploy a new NodeList contract owned by the admin key'))
    .action(async (options: ChainOptions, command: Command) => {
      const { wallet } = admin(options);
      const deployed = await deployNodeList(wallet);
      report(command, { contract: deployed.address, transaction: deployed.txHash, block: deployed.blockNumber },
        [`deployed NodeList at ${deployed.address}`, `transaction  ${deployed.txHash} (block ${deployed.blockNumber})`]);
    });

  const epoch = program.command('epoch').description('epochs in the NodeList contract');
  withContract(epoch.command('create').description("create an epoch (n nodes, thresholds k and t); with --prev, also make it the previous epoch's next epoch"))
    .requiredOption('--epoch <id>', 'epoch number (1, 2, ...)', positiveInt('--epoch'))
    .requiredOption('--n <n>', 'number of nodes', positiveInt('--n'))
    .requiredOption('--k <k>', 'reconstruction threshold, floor(n/2)+1', positiveInt('--k'))
    .requiredOption('--t <t>', 'key-generation fault tolerance, t < n/4', positiveInt('--t'))
    .option('--prev <epoch>', 'previous epoch, whose keys the new epoch takes over; its next epoch is set to this one (0: none)', positiveInt('--prev'), 0)
    .option('--next <epoch>', 'next epoch (0: none)', positiveInt('--next'), 0)
    .action(async (options: ChainOptions & { epoch: number; n: number; k: number; t: number; prev: number; next: number }, command: Command) => {
      const problem = thresholdError(options);
      if (problem !== undefined) throw new Error(`refusing to create an epoch nodes could not run: ${problem}`);
      const { epoch: id, prev } = options;
      // torus-abci takes a hand-over only from an earlier epoch; a later one could never hand its keys over.
      if (prev !== 0 && prev >= id) throw new Error(`refusing --prev ${prev} for epoch ${id}: an epoch takes keys over only from an earlier epoch`);
      const { contract: c } = contractOf(options);
      // Checked before anything is sent, so that a refusal leaves no half-linked epoch behind.
      const previous = prev === 0 ? undefined : await c.getEpochInfo(prev);
      if (previous === null) throw new Error(`--prev ${prev}: epoch ${prev} does not exist in the contract ${c.address}`);
      if (previous !== undefined && previous.nextEpoch !== 0 && previous.nextEpoch !== id) {
        throw new Error(`--prev ${prev}: epoch ${prev} already hands its keys over to epoch ${previous.nextEpoch}; refusing to redirect it to epoch ${id}`);
      }
      const { hash } = await c.createEpoch({ epoch: id, n: options.n, k: options.k, t: options.t, prevEpoch: prev, nextEpoch: options.next });
      let link: string | undefined;
      if (previous !== undefined) {
        try {
          // Keeps epoch prev's own previous epoch, as read above.
          link = (await c.updateEpochLinks(prev, previous.prevEpoch, id)).hash;
        } catch (error) {
          throw new Error(`created epoch ${id} (transaction ${hash}), but setting epoch ${prev}'s next epoch to ${id} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      }
      report(command, { epoch: id, n: options.n, k: options.k, t: options.t, prev_epoch: prev, next_epoch: options.next, transaction: hash, ...(link !== undefined ? { prev_link_transaction: link } : {}) },
        [`created epoch ${id} (n=${options.n}, k=${options.k}, t=${options.t}, prev ${prev}, next ${options.next})`, `transaction  ${hash}`,
          ...(link !== undefined ? [`epoch ${prev}'s next epoch is now ${id}`, `transaction  ${link}`] : [])]);
    });
  readingContract(epoch.command('status').description("an epoch's parameters, links and listed nodes, read from the contract"))
    .requiredOption('--epoch <id>', 'epoch number', positiveInt('--epoch'))
    .action(async (options: ChainOptions & { epoch: number }, command: Command) => {
      const { contract: c } = readerOf(options);
      const info = await c.getEpochInfo(options.epoch);
      if (info === null) throw new Error(`epoch ${options.epoch} does not exist in the contract ${c.address}`);
      const current = await c.currentEpoch();
      const nodes = [];
      for (const [i, address] of info.nodeList.entries()) {
        nodes.push({ position: i + 1, address, declared_ip: (await c.getNodeDetailsForEpoch(info.id, address))?.declaredIp ?? null });
      }
      const link = (id: number) => (id === 0 ? 'none' : String(id));
      const missing = info.n - info.nodeList.length;
      report(command, { epoch: info.id, n: info.n, k: info.k, t: info.t, prev_epoch: info.prevEpoch, next_epoch: info.nextEpoch, current: current === info.id, listed: nodes.length, nodes }, [
        `epoch ${info.id}: n=${info.n}, k=${info.k}, t=${info.t}${current === info.id ? ' (the current epoch)' : ''}`,
        `previous epoch ${link(info.prevEpoch)}, next epoch ${link(info.nextEpoch)}`,
        `${nodes.length} of ${info.n} nodes listed${missing > 0 ? ` (${missing} missing)` : ''}`,
        ...nodes.map((node) => `  ${node.position}  ${node.address}  ${node.declared_ip ?? '(no details)'}`),
      ]);
    });
  withContract(epoch.command('set-current').description('make an epoch the current one (what clients read)'))
    .requiredOption('--epoch <id>', 'epoch number', positiveInt('--epoch'))
    .action(async (options: ChainOptions & { epoch: number }, command: Command) => {
      const { contract: c } = contractOf(options);
      const { hash } = await c.setCurrentEpoch(options.epoch);
      report(command, { current_epoch: options.epoch, transaction: hash }, [`current epoch is now ${options.epoch}`, `transaction  ${hash}`]);
    });

  const network = program.command('network').description("what clients need to reach an epoch's nodes");
  withContract(network.command('export').description('write the client network file (for --network) of an epoch, read from the contract'))
    .option('--epoch <id>', 'epoch number (default: the current epoch)', positiveInt('--epoch'))
    .option('--out <file>', 'write it to this file instead of printing it')
    .action(async (options: ChainOptions & { epoch?: number; out?: string }) => {
      const { provider, contract: c } = readerOf(options);
      const epochId = options.epoch ?? await c.currentEpoch();
      const file = await clientNetworkFromContract(c, provider, epochId);
      if (options.out === undefined) io.printJson(file);
      else {
        writeFileSync(options.out, `${JSON.stringify(file, null, 2)}\n`);
        io.print([`wrote ${options.out}: epoch ${epochId}, ${file.nodes.length} nodes`]);
      }
    });

  const whitelist = program.command('whitelist').description("the epochs' whitelists");
  withContract(whitelist.command('add').description('allow nodes to register in an epoch'))
    .requiredOption('--epoch <id>', 'epoch number', positiveInt('--epoch'))
    .option('--fund <ether>', 'also send each node this much ether for its registration gas')
    .argument('<addresses...>', 'node addresses (torus node key prints them)')
    .action(async (addresses: string[], options: ChainOptions & { epoch: number; fund?: string }, command: Command) => {
      const nodes = addresses.map((a) => {
        try {
          return getAddress(a);
        } catch {
          throw new Error(`not an address: ${a}`);
        }
      });
      const amount = options.fund === undefined ? undefined : parseEther(options.fund);
      const { contract: c, wallet } = contractOf(options);
      const done: Array<{ node: string; transaction: string; funded?: string }> = [];
      for (const address of nodes) {
        const { hash } = await c.updateWhitelist(options.epoch, address, true);
        let funded: string | undefined;
        if (amount !== undefined) {
          const tx = await wallet.sendTransaction({ to: address, value: amount });
          await tx.wait();
          funded = tx.hash;
        }
        done.push({ node: address, transaction: hash, ...(funded !== undefined ? { funded } : {}) });
      }
      report(command, { epoch: options.epoch, whitelisted: done },
        done.flatMap((d) => [`whitelisted ${d.node} for epoch ${options.epoch}: transaction ${d.transaction}`, ...(d.funded !== undefined ? [`  sent ${options.fund} ether: transaction ${d.funded}`] : [])]));
    });
}
