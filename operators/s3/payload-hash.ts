/**
 * Hands SigV4 the body's SHA-256 we already have: the signer uses a preset x-amz-content-sha256 instead of hashing
 * the body again, and AWS checks the body against it, which makes it an integrity check of each upload request.
 */
import type { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3'

const HEADER = 'x-amz-content-sha256'

type BuildStack = {
  add(
    middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'build'; name: string },
  ): void
}

export function withPayloadHash<C extends PutObjectCommand | UploadPartCommand>(command: C, sha256Hex: string | undefined): C {
  if (!sha256Hex) return command
  ;(command.middlewareStack as unknown as BuildStack).add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> }
      if (req.headers) req.headers[HEADER] = sha256Hex
      return next(args)
    },
    { step: 'build', name: 'adasForgePayloadHash' },
  )
  return command
}
