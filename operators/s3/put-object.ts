/** Objects below the multipart threshold: read whole, hashed, sent in one PutObject with their digest. */
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { DIGEST_METADATA } from './digest.ts'
import { withPayloadHash } from './payload-hash.ts'
import type { TransferContext } from './transfer-context.ts'

export async function putObject(
  ctx: TransferContext,
  rel: string,
  body: Buffer,
  digest: string,
  signal?: AbortSignal,
  contentType?: string,
): Promise<void> {
  const key = ctx.loc.prefix + rel
  await ctx.request('PutObject', key, signal, (s) =>
    ctx.client.send(
      withPayloadHash(
        new PutObjectCommand({
          Bucket: ctx.loc.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: contentType,
          Metadata: { [DIGEST_METADATA]: digest },
        }),
        digest,
      ),
      { abortSignal: s },
    ),
  )
}
