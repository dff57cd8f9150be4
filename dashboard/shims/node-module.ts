/**
 * `node:module` for the browser bundle. core/crypto/native.ts asks `createRequire(...)('node-gyp-build')` for
 * the libsecp256k1 binding; in a browser there is none, so the require throws and native.ts falls back to
 * @noble/curves (its `libsecp256k1` is undefined), exactly as on a platform without a prebuilt binary.
 */
export function createRequire(_from: string | URL): (id: string) => never {
  return (id: string) => {
    throw new Error(`cannot load ${id} in a browser: there are no native modules`);
  };
}
