/**
 * The `torus` commands for operators: `node start` / `node key` for a node, the contract owner's
 * `contract deploy`, `epoch create`, `epoch set-current` and `whitelist add`, and `network export` (the client
 * network file of an epoch, from the contract). Each admin command prints what it
 * did and the transaction hash. Chain, contract and admin key come from options or the environment
 * (TORUS_ETH_RPC, TORUS_CONTRACT, TORUS_ADMIN_KEY as hex, or TORUS_ADMIN_KEY_FILE as {"secret_key"}).
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { getAddress, parseEther } from 'ethers';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { parseSecretKey } from '../../core/crypto/keys.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { thresholdError } from '../../core/epoch.js';
import { createLogger } from '../../core/log.js';
import { loadOrCreateNodeKey, readNodeKey } from '../../core/node-key.js';
import { deployNodeList, NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import { loadNodeConfig } from './config.js';
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

function withContract(command: Command): Command {
  return chainOptions(command).option('--contract <address>', 'NodeList contract address (default: $TORUS_CONTRACT)');
}

export function registerOperatorCommands(program: Command, io: CommandIo): void {
  const setting = (value: string | undefined, env: string, what: string): string => {
    const resolved = value ?? io.env[env];
    if (resolved === undefined || resolved === '') throw new Error(`${what} is needed: pass it as an option or set ${env}`);
    return resolved;
  };
  const admin = (options: ChainOptions) => {
    const provider = providerFor(setting(options.ethRpc, 'TORUS_ETH_RPC', '--eth-rpc'));
    const keyFile = options.adminKeyFile ?? io.env['TORUS_ADMIN_KEY_FILE'];
    const secret = keyFile !== undefined ? readNodeKey(keyFile) : parseSecretKey(setting(undefined, 'TORUS_ADMIN_KEY', 'the admin key (--admin-key-file)'));
    return { provider, wallet: walletFor(bytesToHex(secret), provider) };
  };
  const contractOf = (options: ChainOptions) => {
    const { provider, wallet } = admin(options);
    return { provider, wallet, contract: new NodeListContract(getAddress(setting(options.contract, 'TORUS_CONTRACT', '--contract')), wallet) };
  };
  const report = (command: Command, fields: Record<string, unknown>, lines: string[]) => (io.json(command) ? io.printJson(fields) : io.print(lines));

  const node = program.command('node').description('run a node of an epoch listed in the NodeList contract');
  node
    .command('start')
    .description('register in the contract, wait for the whole epoch, then run cometbft, torus-abci, torus-dkg and torus-retrieval')
    .requiredOption('--config <file>', 'the node configuration (node/README.md)')
    .action(async (options: { config: string }) => {
      const config = loadNodeConfig(options.config);
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
    .requiredOption('--config <file>', 'the node configuration')
    .action((options: { config: string }, command: Command) => {
      const config = loadNodeConfig(options.config);
      const { secretKey, created } = loadOrCreateNodeKey(config.node_key_file);
      const signer = new NodeSigner(secretKey);
      report(command, { address: signer.checksumAddress, public_key: bytesToHex(signer.publicKey), created, file: config.node_key_file },
        [`${created ? 'created' : 'existing'} node key ${config.node_key_file}`, `address      ${signer.checksumAddress}`, `public key   ${bytesToHex(signer.publicKey)}`]);
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
  withContract(epoch.command('create').description('create an epoch (n nodes, thresholds k and t)'))
    .requiredOption('--epoch <id>', 'epoch number (1, 2, ...)', positiveInt('--epoch'))
    .requiredOption('--n <n>', 'number of nodes', positiveInt('--n'))
    .requiredOption('--k <k>', 'reconstruction threshold, floor(n/2)+1', positiveInt('--k'))
    .requiredOption('--t <t>', 'key-generation fault tolerance, t < n/4', positiveInt('--t'))
    .option('--prev <epoch>', 'previous epoch (0: none)', positiveInt('--prev'), 0)
    .option('--next <epoch>', 'next epoch (0: none)', positiveInt('--next'), 0)
    .action(async (options: ChainOptions & { epoch: number; n: number; k: number; t: number; prev: number; next: number }, command: Command) => {
      const problem = thresholdError(options);
      if (problem !== undefined) throw new Error(`refusing to create an epoch nodes could not run: ${problem}`);
      const { contract: c } = contractOf(options);
      const { hash } = await c.createEpoch({ epoch: options.epoch, n: options.n, k: options.k, t: options.t, prevEpoch: options.prev, nextEpoch: options.next });
      report(command, { epoch: options.epoch, n: options.n, k: options.k, t: options.t, transaction: hash },
        [`created epoch ${options.epoch} (n=${options.n}, k=${options.k}, t=${options.t}, prev ${options.prev}, next ${options.next})`, `transaction  ${hash}`]);
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
      const provider = providerFor(setting(options.ethRpc, 'TORUS_ETH_RPC', '--eth-rpc'));
      const c = new NodeListContract(getAddress(setting(options.contract, 'TORUS_CONTRACT', '--contract')), provider);
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
