/**
 * Partial masking of verifier ids for display. The dashboard shows who got a key on a *demo* network, where ids
 * are made-up emails, but a screen or screenshot should still not carry whole addresses: the first character of
 * the local part and the domain stay (a***@example.com), enough to recognise one's own test user.
 */

/** a***@example.com for an email; for any other id its first two characters and the length hidden (go***). */
export function maskVerifierId(verifierId: string): string {
  // By code points, so a character outside the BMP is never cut in half.
  const chars = Array.from(verifierId);
  const at = chars.lastIndexOf('@');
  if (at > 0 && at < chars.length - 1) return `${chars[0] as string}***${chars.slice(at).join('')}`;
  // Short ids would be shown almost whole by a two-character prefix.
  return chars.length <= 4 ? '***' : `${chars.slice(0, 2).join('')}***`;
}
