/** The committed artifact is what NodeList.sol compiles to, and the build refuses what it should. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ARTIFACT_URL, formatArtifact, loadArtifact, parseArtifact } from '../src/artifact.js';
import { CompileError, compileNodeList, readSource, sha256Hex } from '../src/compiler.js';

test('contracts/artifacts/NodeList.json is up to date with NodeList.sol (run `npm run contracts:build`)', () => {
  const committed = readFileSync(fileURLToPath(ARTIFACT_URL), 'utf8');
  assert.equal(loadArtifact().sourceSha256, sha256Hex(readSource()), 'the source changed since the artifact was built');
  const { artifact, warnings } = compileNodeList();
  assert.deepEqual(warnings, [], 'the contract compiles without warnings');
  // Byte for byte: same ABI, bytecode, settings and formatting.
  assert.equal(formatArtifact(artifact), committed);
  assert.deepEqual(artifact.compiler, { version: '0.8.28+commit.7893614a.Emscripten.clang', evmVersion: 'cancun', optimizer: { enabled: true, runs: 200 } });
});

test('the build refuses a compiler other than the pinned pragma, and a pragma range', () => {
  const source = readSource();
  assert.throws(() => compileNodeList(source.replace('pragma solidity 0.8.28;', 'pragma solidity 0.8.2;')), (error: unknown) =>
    error instanceof CompileError && /needs solc 0\.8\.2 but solc-js is 0\.8\.28\+/.test(error.message));
  assert.throws(() => compileNodeList(source.replace('pragma solidity 0.8.28;', 'pragma solidity ^0.8.0;')), /must pin an exact compiler version/);
});

test('compiler errors come back readable: file, line and message', () => {
  const broken = readSource().replace('e.nodeList.push(msg.sender);', 'e.nodeList.push(msg.sender)');
  assert.throws(() => compileNodeList(broken), (error: unknown) => {
    assert.ok(error instanceof CompileError);
    assert.match(error.message, /NodeList\.sol does not compile \(1 error\)/);
    assert.match(error.message, /ParserError: Expected ';'/);
    assert.match(error.message, /--> NodeList\.sol:\d+:\d+/);
    return true;
  });
});

test('a malformed artifact is refused with what is wrong', () => {
  const good = formatArtifact(loadArtifact());
  assert.throws(() => parseArtifact('{', 'x.json'), /x\.json is not JSON/);
  const noBytecode = JSON.stringify({ ...JSON.parse(good), bytecode: 'abc' });
  assert.throws(() => parseArtifact(noBytecode, 'x.json'), /x\.json is not a NodeList artifact:[\s\S]*bytecode/);
});
