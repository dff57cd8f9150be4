/**
 * Test helpers: epochs of registered nodes as the contract would hold them, a fake contract holding them, and what
 * torus-dkg should be told about one.
 */
import { bytesToBigint } from '../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import assert from 'node:assert/strict';
import type { EpochOnChain, EpochRegistrations, NodeDetailsOnChain, NodeRegistry } from '../src/registry.js';

export const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

/**
 * An epoch of n registered nodes with fresh keys, thresholds k = floor(n/2)+1 and the largest t; `base` shifts
 * the ports (JSON-RPC 7000+, keygen 9000+), so two epochs' nodes differ.
 */
export function registrations(n: number, { id = 3, prevEpoch = 0, base = 0 }: { id?: number; prevEpoch?: number; base?: number } = {}): EpochRegistrations & { epoch: EpochOnChain } {
  const nodes = Array.from({ length: n }, (_, j) => {
    const i = base + j;
    const publicKey = publicKeyOf(randomSecretKey());
    const address = checksumAddress(ethereumAddress(publicKey));
    const details: NodeDetailsOnChain = {
      declaredIp: `127.0.0.1:${7000 + i}`, position: j + 1,
      pubKx: bytesToBigint(publicKey.subarray(1, 33)), pubKy: bytesToBigint(publicKey.subarray(33)),
      tmP2PListenAddress: `${'ab'.repeat(20)}@127.0.0.1:${26000 + i}`, p2pListenAddress: `/ip4/127.0.0.1/tcp/${9000 + i}`,
    };
    return { address, details };
  });
  const epoch: EpochOnChain = { id, n, k: Math.floor(n / 2) + 1, t: Math.ceil(n / 4) - 1, nodeList: nodes.map((x) => x.address), prevEpoch, nextEpoch: 0, createdAt: 1_790_000_000 };
  return { epoch, details: new Map(nodes.map((x) => [x.address, x.details])) };
}

/** A registered key as 65 bytes of hex, written out here rather than through the code under test. */
export function uncompressedKey(d: NodeDetailsOnChain): string {
  return `04${d.pubKx.toString(16).padStart(64, '0')}${d.pubKy.toString(16).padStart(64, '0')}`;
}

/** The committee (dkg.json source / target) these loopback registrations should give. */
export function expectedCommittee(chainId: string, { epoch, details }: EpochRegistrations) {
  return {
    chain_id: chainId, epoch: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t,
    members: epoch.nodeList.map((address, i) => {
      const d = details.get(address) as NodeDetailsOnChain;
      return { index: i + 1, public_key: uncompressedKey(d), address: d.p2pListenAddress, jsonrpc: `http://${d.declaredIp}/jrpc` };
    }),
  };
}

/** The contract as the launcher sees it, changed by the test between polls. */
export class FakeRegistry implements NodeRegistry {
  readonly address = CONTRACT;
  readonly epochs = new Map<number, EpochOnChain>();
  readonly #details = new Map<number, ReadonlyMap<string, NodeDetailsOnChain>>();

  put({ epoch, details }: EpochRegistrations): void {
    this.epochs.set(epoch.id, epoch);
    this.#details.set(epoch.id, details);
  }

  update(id: number, change: Partial<EpochOnChain>): void {
    const epoch = this.epochs.get(id);
    assert.ok(epoch !== undefined);
    this.epochs.set(id, { ...epoch, ...change });
  }

  chainId = async () => 31337n;
  epoch = async (id: number) => this.epochs.get(id);
  details = async (epoch: number, node: string) => (this.epochs.get(epoch)?.nodeList.includes(node) ? this.#details.get(epoch)?.get(node) : undefined);
  isWhitelisted = async () => true;
  /** Whatever the launcher does with the contract in these tests, it must not register: registrations are final. */
  listNode = async (): Promise<string> => assert.fail('no node registers in these tests');
}
