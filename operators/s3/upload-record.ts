/**
 * The resume record of an upload: every multipart upload in progress with the parts the server confirmed, sent as
 * a whole through the heartbeat after each change, so the next attempt can continue where this one stopped.
 */
import type { MultipartState, TransferEnv, TransferLogger } from './transfer-env.ts'

export class UploadRecorder {
  private readonly uploads: Record<string, MultipartState>

  constructor(
    private readonly url: string,
    previous: Record<string, MultipartState>,
    private readonly env: TransferEnv,
    private readonly log: TransferLogger,
  ) {
    // Records of objects this attempt has not reached yet are kept, or a third attempt could not resume them.
    this.uploads = structuredClone(previous)
  }

  get(rel: string): MultipartState | undefined {
    return this.uploads[rel]
  }

  set(rel: string, state: MultipartState): void {
    this.uploads[rel] = state
    this.flush()
  }

  delete(rel: string): void {
    if (!(rel in this.uploads)) return
    delete this.uploads[rel]
    this.flush()
  }

  private flush(): void {
    if (!this.env.heartbeat) return
    const details = { s3Upload: { url: this.url, multipart: structuredClone(this.uploads) } }
    const fail = (err: unknown): void => this.log(`heartbeat with upload details failed: ${(err as Error)?.message ?? err}`)
    try {
      const res = this.env.heartbeat(details)
      if (res && typeof (res as Promise<void>).catch === 'function') (res as Promise<void>).catch(fail)
    } catch (err) {
      fail(err)
    }
  }
}
