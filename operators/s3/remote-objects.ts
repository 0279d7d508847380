/** What is already under a prefix: one listing for sizes, then a HEAD only where a size matches, for the digest. */
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { DIGEST_METADATA } from './digest.ts'
import { isNotFound, type TransferContext } from './transfer-context.ts'

/** Sizes by key relative to the prefix. */
export async function listRemoteSizes(ctx: TransferContext, signal?: AbortSignal): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  let token: string | undefined
  do {
    const page = await ctx.request('ListObjectsV2', ctx.loc.prefix || '/', signal, (s) =>
      ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.loc.bucket, Prefix: ctx.loc.prefix, ContinuationToken: token }), { abortSignal: s }),
    )
    for (const o of page.Contents ?? []) if (o.Key) sizes.set(o.Key.slice(ctx.loc.prefix.length), o.Size ?? -1)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return sizes
}

export interface RemoteHead {
  size: number
  sha256: string | undefined
}

/** Size and recorded digest of one object, or null if there is none. */
export async function headObject(ctx: TransferContext, rel: string, signal?: AbortSignal): Promise<RemoteHead | null> {
  const key = ctx.loc.prefix + rel
  try {
    const head = await ctx.request('HeadObject', key, signal, (s) =>
      ctx.client.send(new HeadObjectCommand({ Bucket: ctx.loc.bucket, Key: key }), { abortSignal: s }),
    )
    return { size: head.ContentLength ?? -1, sha256: head.Metadata?.[DIGEST_METADATA] }
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
}
