/** Hex helpers for golden byte tests: the reference writes bytes as 'aa bb cc'. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
export const toHex = (b: Uint8Array): string =>
  Buffer.from(b)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ')
