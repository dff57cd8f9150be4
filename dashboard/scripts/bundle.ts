/**
 * Builds the dashboard page for browsers (part of `npm run build`, after tsc): esbuild bundles
 * dashboard/web/src/main.ts with everything it imports — our TorusClient, core's cryptography, zod, jose,
 * @noble — into dist/dashboard/web/app.js (ES module, minified, with a source map), and copies index.html and
 * style.css next to it.
 *
 * The client's code is written for Node; the bundle swaps what a browser does not have (dashboard/shims/):
 *   node:crypto  -> node-crypto.ts: sha256/sha512, HMAC-SHA256, AES-256-CBC, timingSafeEqual, randomBytes on @noble
 *   node:module  -> node-module.ts: no native modules, so core/crypto/native.ts falls back to @noble/curves
 *   node:path    -> node-path.ts, node:fs -> node-fs.ts: reached only on Node-only paths; they throw
 *   secp256k1    -> secp256k1.ts: publicKeyConvert on @noble/curves (the package's browser build is elliptic)
 *   client/src/rpc.ts (node:http) -> rpc-node-http.ts: the page passes fetchTransport (client/src/rpc-fetch.ts)
 *   Buffer       -> the `buffer` package, injected wherever the code names the global
 * Any other Node built-in is a build error naming its importer, so a new dependency on Node cannot slip into
 * the page unnoticed.
 *
 *   node dist/dashboard/scripts/bundle.js [--out DIR]
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { REPO_ROOT } from '../../core/comet/binary.js';

const SHIMS = path.join(REPO_ROOT, 'dashboard/shims');
const WEB = path.join(REPO_ROOT, 'dashboard/web');

/** What the browser gets instead of each Node built-in or Node-only package the client's code imports. */
export const BROWSER_SUBSTITUTES: Readonly<Record<string, string>> = {
  'node:crypto': path.join(SHIMS, 'node-crypto.ts'),
  'node:module': path.join(SHIMS, 'node-module.ts'),
  'node:path': path.join(SHIMS, 'node-path.ts'),
  'node:fs': path.join(SHIMS, 'node-fs.ts'),
  secp256k1: path.join(SHIMS, 'secp256k1.ts'),
};

/** Modules of this project replaced as a whole: the importer's directory and specifier, and the replacement. */
const REPLACED_MODULES = [
  { importerDir: path.join(REPO_ROOT, 'client/src'), specifier: './rpc.js', replacement: path.join(SHIMS, 'rpc-node-http.ts') },
];

const browserSubstitutes: Plugin = {
  name: 'browser-substitutes',
  setup(build) {
    build.onResolve({ filter: /^(node:.*|secp256k1|crypto|fs|path|module|http|https|util|os|net|stream|url)$/ }, (args) => {
      const replacement = BROWSER_SUBSTITUTES[args.path];
      if (replacement !== undefined) return { path: replacement };
      return { errors: [{ text: `${args.path} has no browser substitute (imported by ${path.relative(REPO_ROOT, args.importer)}); see dashboard/scripts/bundle.ts` }] };
    });
    build.onResolve({ filter: /^\.\/rpc\.js$/ }, (args) => {
      const replaced = REPLACED_MODULES.find((m) => m.specifier === args.path && m.importerDir === args.resolveDir);
      return replaced === undefined ? undefined : { path: replaced.replacement };
    });
  },
};

/** The esbuild options for a browser bundle of `entry` with the substitutes above (the tests bundle with them too). */
export function browserBuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // BigInt, top-level await and class private fields; every current browser.
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    inject: [path.join(SHIMS, 'buffer-global.ts')],
    plugins: [browserSubstitutes],
    logLevel: 'warning',
    absWorkingDir: REPO_ROOT,
  };
}

/** Bundles the page into `outDir` and copies its static files; returns the bundle's path. */
export async function bundleDashboard(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'app.js');
  await build(browserBuildOptions(path.join(WEB, 'src/main.ts'), outfile));
  for (const file of ['index.html', 'style.css']) copyFileSync(path.join(WEB, file), path.join(outDir, file));
  return outfile;
}

function isMainModule(): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
}

if (isMainModule()) {
  const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
  const outDir = path.resolve(values.out ?? path.join(REPO_ROOT, 'dist/dashboard/web'));
  try {
    const outfile = await bundleDashboard(outDir);
    console.error(`dashboard page: ${path.relative(process.cwd(), outfile)} (${Math.round(statSync(outfile).size / 1024)} KiB)`);
  } catch (err) {
    // esbuild has printed its errors with file and line already.
    console.error(`dashboard bundle failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    process.exitCode = 1;
  }
}
