/**
 * Where the local network (`npm run testnet`) serves its dashboard: next to its development issuer, which
 * listens on base + 10n + 1 (testnet/src/contract-testnet.ts), so on base + 10n + 2. Derived from the issuer's
 * URL in testnet.json rather than from n, because n changes when `torus testnet rotate` brings a new committee
 * while the ports of the chain, the issuer and the dashboard stay where the first epoch put them.
 */
export function localDashboardPort(description: { readonly dev_issuer: string }): number {
  return Number(new URL(description.dev_issuer).port) + 1;
}

export function localDashboardUrl(description: { readonly dev_issuer: string }): string {
  return `http://127.0.0.1:${localDashboardPort(description)}/`;
}
