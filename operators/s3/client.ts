/** The S3Client an operator's transfers share, built from the options alone. */
import { S3Client } from '@aws-sdk/client-s3'
import type { S3Options } from './options.ts'

export function createS3Client(options: S3Options): S3Client {
  const sockets = options.concurrency * options.partConcurrency + 4
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: options.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    // One retry policy, ours (retry.ts): with the SDK's too, a request could be tried maxAttempts² times.
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs,
      connectionTimeout: Math.min(options.requestTimeoutMs, 10_000),
      httpAgent: { keepAlive: true, maxSockets: sockets },
      httpsAgent: { keepAlive: true, maxSockets: sockets },
    },
  })
}
